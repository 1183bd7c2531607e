Feature: Pressure before talks
  Pressure often comes before any talks. The US threatened Brazil with a 50%
  tariff by a letter of 9 July 2025 and imposed it from 6 August; the two
  presidents spoke on 6 October, and their ministers began talks in
  Washington on 16 October. Until then there was no negotiation to speak of,
  yet an analyst wanted to know what was threatened, what was in force and
  which deadlines were running.

  So a negotiation whose story holds only measures, deadlines, meetings or
  third-party acts is known but not opened: asked about, it answers with its
  parties, its measures and its deadlines, and its phase is not opened. The
  first of these names the two parties, as any first event does. Nothing of
  the phase can follow but what opens it (a deal, talks, a visit called
  off); the talks that open it are between the same two parties. About a day
  before its first event nothing is known. Pressure reported wrongly is
  retracted, corrected or denied like any event, as long as the story after
  it still makes sense: the first event left in it must name the parties.

  Scenario: A threatened tariff makes a negotiation known before any talks
    Given no negotiation "us-brazil-2025" has been recorded yet
    When on 9 July 2025 "US" threatens "BR" with "tariff on Brazilian goods" at "50%" from 1 August 2025
    Then "MeasureThreatened" was recorded as version 1
    And the negotiation is known but not opened
    And the parties are "US" and "BR"
    And as of 9 July 2025 the measure "tariff on Brazilian goods" is "threatened"

  Scenario: A deadline makes a negotiation known before any talks
    Given no negotiation "us-brazil-2025" has been recorded yet
    When on 9 July 2025 "US" sets "BR" the deadline "the letter's tariff takes effect" for 1 August 2025
    Then "DeadlineSet" was recorded as version 1
    And the negotiation is known but not opened
    And the deadlines read:
      | what                             | due        | by |
      | the letter's tariff takes effect | 2025-08-01 | US |

  Scenario: The pressure that comes first names the two parties
    Given no negotiation "us-brazil-2025" has been recorded yet
    When on 9 July 2025 "US" threatens "tariff on Brazilian goods" at "50%" from 1 August 2025
    Then the event is refused as invalid: "MeasureThreatened opens negotiation 'us-brazil-2025', so it must name the two parties"
    And nothing was recorded

  Scenario: Pressure, a leaders' call, then the talks that open the negotiation
    Given the negotiation "us-brazil-2025" began on 9 July 2025 with "US" threatening "tariff on Brazilian goods" at "50%" on "BR" from 1 August 2025
    And on 6 August 2025 "US" imposed "tariff on Brazilian goods" at "50%"
    And a meeting was held on 6 October 2025:
      | level  | leaders |
      | format | video   |
    When working-level talks open on 16 October 2025
    Then "WorkingLevelTalksOpened" was recorded as version 4
    And the negotiation is "working_level_talks"
    And as of 1 October 2025 the negotiation was "not_opened"
    And the measures in force as of 1 October 2025 are:
      | measure                   | by | value |
      | tariff on Brazilian goods | US | 50%   |

  Scenario Outline: Nothing but what opens a negotiation follows the pressure
    Given the negotiation "us-brazil-2025" began on 9 July 2025 with "US" threatening "tariff on Brazilian goods" at "50%" on "BR" from 1 August 2025
    When "<event>" is recorded
    Then the event is refused as not allowed in state "not_opened"
    And the message says why: "nothing has opened the negotiation"
    And the message says what is allowed: "AgreedInPrinciple, VisitCancelled, WorkingLevelTalksOpened"
    And nothing was recorded

    Examples:
      | event              |
      | TermsDisputed      |
      | TalksSuspended     |
      | AgreementFinalised |
      | TermsAmended       |

  Scenario: The talks that follow the pressure are between the same two parties
    Given the negotiation "us-brazil-2025" began on 9 July 2025 with "US" threatening "tariff on Brazilian goods" at "50%" on "BR" from 1 August 2025
    When working-level talks between "US" and "AR" open
    Then the event is refused as invalid: "US, AR are not the parties to 'us-brazil-2025' (US, BR)"
    And nothing was recorded

  Scenario: Nothing is known about a day before the first pressure
    Given the negotiation "us-brazil-2025" began on 9 July 2025 with "US" threatening "tariff on Brazilian goods" at "50%" on "BR" from 1 August 2025
    When we ask how the negotiation stood on 8 July 2025
    Then the question is refused: "negotiation 'us-brazil-2025' is unknown then: it had not opened by 2025-07-08T23:59:59.999999+00:00"

  Scenario: Pressure wrongly reported is retracted, and the negotiation stays known
    Given the negotiation "us-brazil-2025" began on 9 July 2025 with "US" threatening "tariff on Brazilian goods" at "50%" on "BR" from 1 August 2025
    And on 10 July 2025 "US" set the deadline "a deal, or the tariff" for 1 August 2025
    When version 2 is retracted, because "the letter set no deadline for a deal"
    Then "EventRetracted" was recorded as version 3
    And the negotiation is known but not opened
    And the deadlines read:
      | what | due | by |

  Scenario: The first pressure cannot be retracted while what followed it stands
    Given the negotiation "us-brazil-2025" began on 9 July 2025 with "US" threatening "tariff on Brazilian goods" at "50%" on "BR" from 1 August 2025
    And on 10 July 2025 "US" set the deadline "a deal, or the tariff" for 1 August 2025
    When version 1 is retracted, because "the letter was not sent"
    Then it is refused because the story would then have the "DeadlineSet" of 10 July 2025 (version 2) in state "not_opened"
    And the message says why: "parties: DeadlineSet opens negotiation 'us-brazil-2025', so it must name the two parties"
    And nothing was recorded

  Scenario: The day of the first pressure is corrected
    Given the negotiation "us-brazil-2025" began on 10 July 2025 with "US" threatening "tariff on Brazilian goods" at "50%" on "BR" from 1 August 2025
    When version 1 is corrected to have happened on 9 July 2025, because "the letter is dated 9 July"
    Then "EventCorrected" was recorded as version 2
    And the negotiation is known but not opened
    And the story reads:
      | date        | event             | version | corrected by |
      | 9 July 2025 | MeasureThreatened | 1       | 2            |

  Scenario: Nothing is dated before the pressure that made the negotiation known
    Given the negotiation "us-brazil-2025" began on 9 July 2025 with "US" threatening "tariff on Brazilian goods" at "50%" on "BR" from 1 August 2025
    And on 10 July 2025 "US" set the deadline "a deal, or the tariff" for 1 August 2025
    When version 2 is corrected to have happened on 1 July 2025, because "the deadline came first"
    Then it is refused because the story would then have the "DeadlineSet" of 1 July 2025 (version 2) in state "not_opened"
    And nothing was recorded
