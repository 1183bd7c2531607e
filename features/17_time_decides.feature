Feature: Time decides
  Some of what an analyst must know comes from the calendar, not from any
  event. The Geneva truce paused US and Chinese tariffs until 12 August 2025:
  had nothing been done by the end of that day, the tariffs would have been
  in force again on 13 August, with nothing recorded on 13 August to say so.
  (They were not: the truce was extended on 11 August.) The US letter of 12
  July 2025 threatened the EU with 30% from 1 August; when 1 August ended with
  no such tariff imposed, the threat had lapsed. A deadline is pending until
  its day ends, then it has passed. An imposition announced ahead is not in
  force before its day: the order of 6 August 2025 put an extra 25% on Indian
  goods from 27 August, so until 26 August that tariff was only threatened.

  So a measure or a deadline is always asked about at a time: "as of" a day,
  what was in force, paused or pending at the end of that day; "as known on"
  a day, what the reports received by then said, and so what was expected
  then. A day means the whole of that day: a pause until 12 August still
  holds on 12 August.

  Scenario: A truce that is not extended lapses, and the tariff is in force again
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And on 14 May 2025 "reciprocal tariff" was paused until 12 August 2025, because "the Geneva truce"
    Then as of 12 August 2025 the measure "reciprocal tariff" is "paused"
    And as of 13 August 2025 the measure "reciprocal tariff" is "in_force"
    And no event of the story happened on 13 August 2025
    And the measures in force as of 13 August 2025 are:
      | measure           | by | value |
      | reciprocal tariff | US | 34%   |

  Scenario: A truce extended before it lapsed holds
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And on 14 May 2025 "reciprocal tariff" was paused until 12 August 2025, because "the Geneva truce"
    When on 11 August 2025 "reciprocal tariff" is paused until 10 November 2025, because "the truce extended"
    Then as of 13 August 2025 the measure "reciprocal tariff" is "paused"
    And the measures in force as of 13 August 2025 are:
      | measure | by | value |

  Scenario: A tariff is paused again after its truce lapsed
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And on 14 May 2025 "reciprocal tariff" was paused until 12 August 2025, because "the Geneva truce"
    When on 20 August 2025 "reciprocal tariff" is paused until 10 November 2025, because "a truce renewed late"
    Then "MeasurePaused" was recorded as version 3
    And as of 15 August 2025 the measure "reciprocal tariff" is "in_force"
    And as of 20 August 2025 the measure "reciprocal tariff" is "paused"

  Scenario: A threat whose day passes with nothing done lapses
    Given the negotiation "us-eu-2025" opened with working-level talks between "US" and "EU" on 1 May 2025
    And on 12 July 2025 "US" threatened "tariff on EU goods" at "30%" from 1 August 2025
    Then as of 1 August 2025 the measure "tariff on EU goods" is "threatened"
    And as of 2 August 2025 the measure "tariff on EU goods" is "threat_lapsed"
    And no event of the story happened on 2 August 2025
    And the measures in force as of 2 August 2025 are:
      | measure | by | value |

  Scenario: A threat carried out on its day does not lapse
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    And on 10 July 2025 "US" threatened "tariff on goods outside the USMCA" at "35%" from 1 August 2025
    When on 1 August 2025 "US" imposes "tariff on goods outside the USMCA" at "35%"
    Then as of 2 August 2025 the measure "tariff on goods outside the USMCA" is "in_force"

  Scenario: A deadline is pending until its day ends, then it has passed
    Given the negotiation "us-eu-2025" opened with working-level talks between "US" and "EU" on 1 May 2025
    And on 7 July 2025 "US" set the deadline "a deal, or the letter's tariffs apply" for 1 August 2025
    Then as of 1 August 2025 the deadline "a deal, or the letter's tariffs apply" is "pending"
    And as of 2 August 2025 the deadline "a deal, or the letter's tariffs apply" is "passed"
    And no event of the story happened on 2 August 2025

  Scenario: What was expected on a day, as known then
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And on 14 May 2025 "reciprocal tariff" was paused until 12 August 2025, because "the Geneva truce"
    And on 11 August 2025 "reciprocal tariff" was paused until 10 November 2025, because "the truce extended"
    Then as of 13 August 2025, as known on 10 August 2025, the measure "reciprocal tariff" was "in_force"
    And as of 13 August 2025, as known on 11 August 2025, the measure "reciprocal tariff" was "paused"
    And as known on 10 August 2025 the measure "reciprocal tariff" was "paused"

  Scenario: A deadline moved, as known before and after the move
    Given the negotiation "us-japan-2025" began on 9 April 2025 with "US" setting "JP" the deadline "deals with trading partners" for 9 July 2025
    And working-level talks opened on 16 April 2025
    And on 7 July 2025 "US" set the deadline "deals with trading partners" for 1 August 2025
    Then as of 10 July 2025, as known on 6 July 2025, the deadline "deals with trading partners" was "passed"
    And as of 10 July 2025 the deadline "deals with trading partners" is "pending"

  Scenario: An imposition announced ahead is in force only from its effective day
    Given the negotiation "us-india-2025" opened with working-level talks between "US" and "IN" on 1 March 2025
    When on 6 August 2025 "US" imposes "penalty tariff" at "25%", effective from 27 August 2025
    Then "MeasureImposed" was recorded as version 2
    And as of 26 August 2025 the measure "penalty tariff" is "threatened"
    And as of 27 August 2025 the measure "penalty tariff" is "in_force"
    And no event of the story happened on 27 August 2025
    And the measures in force as of 26 August 2025 are:
      | measure | by | value |

  Scenario: A measure imposed ahead cannot be paused before it takes effect
    Given the negotiation "us-india-2025" opened with working-level talks between "US" and "IN" on 1 March 2025
    And on 6 August 2025 "US" imposed "penalty tariff" at "25%", effective from 27 August 2025
    When on 20 August 2025 "penalty tariff" is paused until 30 September 2025, because "talks resume"
    Then the event is refused for the measure "penalty tariff", which is "threatened"
    And nothing was recorded
