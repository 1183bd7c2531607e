Feature: Late news
  News does not arrive in the order things happen. A visit called off on a
  Thursday is confirmed only after the talks that replaced it; a dispute
  aired behind closed doors surfaces weeks later. Every event therefore has
  two dates: the day it happened and the day it was reported (by default,
  the day it is recorded; news cannot be reported before it is known).

  The ledger keeps its log in the order things were recorded, and never
  changes it. The story of a negotiation is told in the order things
  happened: an event reported late takes its place among the events that
  came before and after it, and the negotiation is what that story makes it.

  A late event is accepted only if the whole story with it still makes
  sense: each event, in the order they happened, must be allowed in the
  state the events before it leave. Otherwise it is refused, the message
  names the event of the story it would break, the state it would meet and
  why, and nothing is recorded. Events reported together are judged
  together, so a dispute and its resolution that both came before a signing
  can be recorded at once, although neither could be recorded alone.

  Scenario: A cancelled visit reported after the talks that followed it takes its place in the story
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "tariff stacking" was disputed on 5 August 2025
    And working-level talks opened on 29 August 2025
    When the visit by "Ryosei Akazawa" is reported, on 30 August 2025, as called off on 28 August 2025
    Then "VisitCancelled" was recorded as version 4
    And the negotiation is "working_level_talks"
    And as of 28 August 2025 the negotiation was "visit_cancelled"
    And the story reads:
      | date           | event                   | version |
      | 22 July 2025   | AgreedInPrinciple       | 1       |
      | 5 August 2025  | TermsDisputed           | 2       |
      | 28 August 2025 | VisitCancelled          | 4       |
      | 29 August 2025 | WorkingLevelTalksOpened | 3       |
    And the log reads:
      | version | event                   | date           | reported       |
      | 1       | AgreedInPrinciple       | 22 July 2025   | 22 July 2025   |
      | 2       | TermsDisputed           | 5 August 2025  | 5 August 2025  |
      | 3       | WorkingLevelTalksOpened | 29 August 2025 | 29 August 2025 |
      | 4       | VisitCancelled          | 28 August 2025 | 30 August 2025 |

  Scenario: A dispute reported late is open from the day it was raised
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "tariff stacking" was disputed on 5 August 2025
    And the visit by "Ryosei Akazawa" was called off on 28 August 2025
    When the point "profit sharing" is reported, on 2 September 2025, as disputed on 27 August 2025
    Then "TermsDisputed" was recorded as version 4
    And the negotiation is "visit_cancelled"
    And the open points are "tariff stacking, profit sharing"
    And as of 27 August 2025 the negotiation was "disputed_terms" with open points "tariff stacking, profit sharing"

  Scenario: A late dispute is refused when the agreement was signed while it would have been open
    Given the negotiation "us-uk-2025" opened with the deal between "US" and "GB" on 8 May 2025
    And the agreement was finalised on 16 June 2025 in "US executive order implementing the Economic Prosperity Deal"
    When the point "steel and aluminium" is reported, on 20 June 2025, as disputed on 20 May 2025
    Then it is refused because the story would then have the "AgreementFinalised" of 16 June 2025 (version 2) in state "disputed_terms"
    And the message reads: "the new TermsDisputed of 2025-05-20 would make the story of negotiation 'us-uk-2025' illegal: version 2, AgreementFinalised of 2025-06-16 would then come in state disputed_terms, where it is refused (disputed points are still open); nothing was written"
    And nothing was recorded
    And the negotiation is "finalised"

  Scenario: A dispute and its resolution reported together take their place before the signing
    Given the negotiation "us-uk-2025" opened with the deal between "US" and "GB" on 8 May 2025
    And the agreement was finalised on 16 June 2025 in "US executive order implementing the Economic Prosperity Deal"
    When these events are reported together on 20 June 2025:
      | date        | event           | point               |
      | 20 May 2025 | TermsDisputed   | steel and aluminium |
      | 3 June 2025 | DisputeResolved | steel and aluminium |
    Then they were recorded as versions 3 and 4
    And the negotiation is "finalised"
    And as of 1 June 2025 the negotiation was "disputed_terms" with open points "steel and aluminium"
    And as of 3 June 2025 the negotiation was "agreed_in_principle"

  Scenario Outline: Either of them reported alone is refused
    Given the negotiation "us-uk-2025" opened with the deal between "US" and "GB" on 8 May 2025
    And the agreement was finalised on 16 June 2025 in "US executive order implementing the Economic Prosperity Deal"
    When the point "steel and aluminium" is reported, on 20 June 2025, as <what happened>
    Then it is refused because the story would then have <refused event> in state "<state>"
    And the message says why: "<why>"
    And nothing was recorded

    Examples:
      | what happened           | refused event                                        | state               | why                            |
      | disputed on 20 May 2025 | the "AgreementFinalised" of 16 June 2025 (version 2) | disputed_terms      | disputed points are still open |
      | resolved on 3 June 2025 | the new event itself                                 | agreed_in_principle | no disputed point is open      |

  Scenario: Talks held before the deal open the negotiation in its place
    Given the negotiation "us-uk-2025" opened with the deal between "US" and "GB" on 8 May 2025
    When working-level talks between "US" and "GB" are reported, on 9 May 2025, as opened on 22 April 2025
    Then "WorkingLevelTalksOpened" was recorded as version 2
    And the negotiation is "agreed_in_principle"
    And the negotiation opened on 22 April 2025
    And as of 30 April 2025 the negotiation was "working_level_talks"
    And the story reads:
      | date          | event                   |
      | 22 April 2025 | WorkingLevelTalksOpened |
      | 8 May 2025    | AgreedInPrinciple       |

  Scenario: Talks dated before the opening name the parties, for they open the negotiation
    Given the negotiation "us-uk-2025" opened with the deal between "US" and "GB" on 8 May 2025
    When "WorkingLevelTalksOpened" of 22 April 2025 is reported on 9 May 2025
    Then the event is refused as invalid: "WorkingLevelTalksOpened opens negotiation 'us-uk-2025', so it must name the two parties"
    And nothing was recorded

  Scenario Outline: Nothing but what can open a negotiation is dated before its opening
    Given the negotiation "us-uk-2025" opened with the deal between "US" and "GB" on 8 May 2025
    When "<event>" of 1 May 2025 is reported on 9 May 2025
    Then it is refused because the story would then have the new event itself in state "not_opened"
    And the message says why: "nothing has opened the negotiation"
    And nothing was recorded
    And the negotiation opened on 8 May 2025

    Examples:
      | event              |
      | TermsDisputed      |
      | DisputeResolved    |
      | TalksSuspended     |
      | AgreementFinalised |
      | TermsAmended       |

  Scenario: An earlier deal reported late comes first in the story, and opens it
    Given the negotiation "us-china-2025" opened with the deal between "US" and "CN" on 10 June 2025
    When the deal between "US" and "CN" is reported, on 11 June 2025, as announced on 12 May 2025
    Then "AgreedInPrinciple" was recorded as version 2
    And the negotiation is "agreed_in_principle"
    And the negotiation opened on 12 May 2025
    And the negotiation has had 2 deals in principle
    And the story reads:
      | date         | event             | version |
      | 12 May 2025  | AgreedInPrinciple | 2       |
      | 10 June 2025 | AgreedInPrinciple | 1       |

  Scenario: News cannot be reported before it is known
    Given the negotiation "us-uk-2025" opened with the deal between "US" and "GB" on 8 May 2025
    When the point "steel and aluminium" is reported, on 1 January 2099, as disputed on 20 May 2025
    Then the event is refused as invalid: "is later than now; nothing is known before it happens"
    And nothing was recorded
