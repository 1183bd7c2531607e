Feature: Measures
  Tariffs and other measures are the pressure of a trade negotiation, and
  what an analyst is asked about most: which tariffs are in force against
  whom, since when, at what rate. A measure is named ("reciprocal tariff",
  "port fees") and lives beside the phase, with a life of its own: it is
  threatened (by letter, in a post: "35% from 1 August"), imposed (in force;
  imposing it again changes its rate, and an imposition may reach back before
  the day of the act), paused until a day (a truce; pausing it again extends
  the truce), and lifted (a threat withdrawn, a tariff removed or struck
  down). A lifted measure can be threatened or imposed again.

  What cannot happen to a measure is refused, saying why, and nothing is
  recorded: nothing is paused that is not in force (only threatened, or a
  threat that lapsed, or lifted), nothing is lifted that was never
  threatened or imposed, or that was lifted already. A threat, an imposition
  and a pause come from a party of the negotiation. Time changes a measure
  too, with no event: see "Time decides". No measure moves the phase.

  Scenario Outline: What may happen to a measure, by where it stands
    Given the negotiation "us-china-2025" opened with working-level talks between "US" and "CN" on 10 May 2025
    And on 1 September 2025 the measure "port fees" is "<status>"
    When "<event>" is recorded for the measure "port fees" on 1 September 2025
    Then "<event>" was recorded
    And as of 1 September 2025 the measure "port fees" is "<after>"
    And the negotiation is "working_level_talks"

    Examples:
      | status        | event             | after      |
      | not_announced | MeasureThreatened | threatened |
      | not_announced | MeasureImposed    | in_force   |
      | threatened    | MeasureThreatened | threatened |
      | threatened    | MeasureImposed    | in_force   |
      | threatened    | MeasureLifted     | lifted     |
      | threat_lapsed | MeasureThreatened | threatened |
      | threat_lapsed | MeasureImposed    | in_force   |
      | threat_lapsed | MeasureLifted     | lifted     |
      | in_force      | MeasureThreatened | in_force   |
      | in_force      | MeasureImposed    | in_force   |
      | in_force      | MeasurePaused     | paused     |
      | in_force      | MeasureLifted     | lifted     |
      | paused        | MeasureThreatened | paused     |
      | paused        | MeasureImposed    | in_force   |
      | paused        | MeasurePaused     | paused     |
      | paused        | MeasureLifted     | lifted     |
      | lifted        | MeasureThreatened | threatened |
      | lifted        | MeasureImposed    | in_force   |

  Scenario Outline: What cannot happen to a measure, and why
    Given the negotiation "us-china-2025" opened with working-level talks between "US" and "CN" on 10 May 2025
    And on 1 September 2025 the measure "port fees" is "<status>"
    When "<event>" is recorded for the measure "port fees" on 1 September 2025
    Then the event is refused for the measure "port fees", which is "<status>"
    And the message says why: "the measure 'port fees' is <in words>: <why>"
    And nothing was recorded

    Examples:
      | status        | in words      | event         | why                                                      |
      | not_announced | not announced | MeasurePaused | nothing has put it in force                              |
      | not_announced | not announced | MeasureLifted | nothing has threatened or imposed it                     |
      | threatened    | threatened    | MeasurePaused | it is only threatened, not in force                      |
      | threat_lapsed | threat lapsed | MeasurePaused | the threat lapsed; it was never in force                 |
      | lifted        | lifted        | MeasurePaused | it was lifted; impose it again first                     |
      | lifted        | lifted        | MeasureLifted | it was already lifted                                    |

  Scenario: A tariff threatened by letter is imposed the day it takes effect
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    When on 10 July 2025 "US" threatens "tariff on goods outside the USMCA" at "35%" from 1 August 2025
    And on 1 August 2025 "US" imposes "tariff on goods outside the USMCA" at "35%"
    Then "MeasureImposed" was recorded as version 3
    And as of 1 August 2025 the measure "tariff on goods outside the USMCA" reads:
      | status         | in_force   |
      | by             | US         |
      | value          | 35%        |
      | effective from | 2025-08-01 |

  Scenario: Imposing a tariff again changes its rate
    Given the negotiation "us-india-2025" opened with working-level talks between "US" and "IN" on 26 March 2025
    And on 7 August 2025 "US" imposed "tariff on Indian goods" at "25%"
    When on 27 August 2025 "US" imposes "tariff on Indian goods" at "50%"
    Then "MeasureImposed" was recorded as version 3
    And the measures in force as of 27 August 2025 are:
      | measure                | by | value |
      | tariff on Indian goods | US | 50%   |
    And the measures in force as of 26 August 2025 are:
      | measure                | by | value |
      | tariff on Indian goods | US | 25%   |

  Scenario: A tariff cut applies from a day before the act
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    When on 4 September 2025 "US" imposes "reciprocal tariff" at "15% all-in", effective from 7 August 2025
    Then "MeasureImposed" was recorded as version 2
    And as of 4 September 2025 the measure "reciprocal tariff" reads:
      | status         | in_force   |
      | value          | 15% all-in |
      | effective from | 2025-08-07 |

  Scenario: A truce pauses the tariffs on both sides, and pausing them again extends it
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And on 10 April 2025 "CN" imposed "retaliatory tariff" at "34%"
    And working-level talks opened on 10 May 2025
    When on 14 May 2025 "reciprocal tariff" is paused until 12 August 2025, because "the Geneva truce"
    And on 14 May 2025 "retaliatory tariff" is paused until 12 August 2025, because "the Geneva truce"
    And on 11 August 2025 "reciprocal tariff" is paused until 10 November 2025, because "the truce extended"
    Then "MeasurePaused" was recorded as version 6
    And the measures in force as of 1 May 2025 are:
      | measure            | by | value |
      | reciprocal tariff  | US | 34%   |
      | retaliatory tariff | CN | 34%   |
    And the measures in force as of 1 June 2025 are:
      | measure | by | value |
    And as of 1 September 2025 the measure "reciprocal tariff" reads:
      | status       | paused             |
      | paused until | 2025-11-10         |
      | value        | 34%                |
      | reason       | the truce extended |
    And the negotiation is "working_level_talks"

  Scenario: A threat is withdrawn before it takes effect
    Given the negotiation "us-china-2025" opened with working-level talks between "US" and "CN" on 10 May 2025
    And on 10 October 2025 "US" threatened "additional tariff" at "100%" from 1 November 2025
    When on 30 October 2025 "additional tariff" is lifted by "US", because "the Busan deal"
    Then "MeasureLifted" was recorded as version 3
    And as of 1 November 2025 the measure "additional tariff" reads:
      | status    | lifted         |
      | lifted by | US             |
      | reason    | the Busan deal |
    And the measures in force as of 1 November 2025 are:
      | measure | by | value |

  Scenario Outline: Only a party to the negotiation threatens, imposes or pauses a measure
    Given the negotiation "us-china-2025" opened with working-level talks between "US" and "CN" on 10 May 2025
    And on 1 September 2025 the measure "port fees" is "in_force"
    When <action>
    Then the event is refused as invalid: "by: EU is not a party to 'us-china-2025' (US, CN)"
    And nothing was recorded

    Examples:
      | action                                                                      |
      | on 2 September 2025 "EU" threatens "port fees" at "50%" from 1 October 2025 |
      | on 2 September 2025 "EU" imposes "port fees" at "50%"                       |
      | on 2 September 2025 "port fees" is paused by "EU" until 1 October 2025      |
      | on 2 September 2025 "port fees" is lifted by "EU", because "a truce"        |

  Scenario: A tariff threatened again after a court struck it down is a new threat
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    And on 1 August 2025 "US" imposed "tariff on goods outside the USMCA" at "35%"
    When on 20 February 2026 "tariff on goods outside the USMCA" is lifted by "US Supreme Court", because "the emergency powers do not reach tariffs"
    And on 21 February 2026 "US" threatens "tariff on goods outside the USMCA" at "15%" from 24 February 2026
    Then as of 21 February 2026 the measure "tariff on goods outside the USMCA" reads:
      | status         | threatened |
      | value          | 15%        |
      | lifted by      |            |
      | reason         |            |
      | effective from |            |

