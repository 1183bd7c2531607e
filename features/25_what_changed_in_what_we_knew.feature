Feature: What changed in what we knew
  A newsroom asks what changed in what it knew between last Monday and
  today. The answer sets the negotiation as the reports received by the
  first day told it beside the negotiation as the reports received by the
  second day tell it: its story, its state, the points in dispute, the
  measures and deadlines, and each party's terms. Every difference names the
  reports that made it: late news (something that had already happened by
  the first day, reported after it), a new event, a correction, a
  retraction or a denial. A day means the whole of that day.

  Scenario: Late news of a dispute is what changed the points in dispute
    Given the seed story "us-korea-2025" has been recorded in full
    When we ask what changed in what we knew between 20 September 2025 and 22 September 2025
    Then version 8, reported on 22 September 2025 about 19 September 2025, is late news
    And the late news recorded as version 8 is what opened the point "currency swap"
    And the late news recorded as version 8 is what added version 8 to the story
    And the negotiation stayed "disputed_terms"
    And nothing else changed
    And nothing was recorded

  Scenario: A quiet week: nothing changed
    Given the seed story "us-korea-2025" has been recorded in full
    When we ask what changed in what we knew between 23 September 2025 and 28 September 2025
    Then nothing changed in what we knew
    And the negotiation stayed "disputed_terms"

  Scenario: A correction and a new event, each named for what it changed
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "reciprocal tariff rate" was disputed on 5 August 2025
    And version 2 was corrected on 7 August 2025 to the point "tariff stacking", because "Japan disputed the stacking of tariffs, not the 15% rate"
    And the point "tariff stacking" was resolved on 8 August 2025
    When we ask what changed in what we knew between 6 August 2025 and 7 August 2025
    Then the correction recorded as version 3 is what opened the point "tariff stacking"
    And the correction recorded as version 3 is what closed the point "reciprocal tariff rate"
    And the correction recorded as version 3 is what changed version 2 in the story
    And nothing else changed
    When we ask what changed in what we knew between 6 August 2025 and 8 August 2025
    Then the correction recorded as version 3 and the new event recorded as version 4 are what changed the negotiation from "disputed_terms" to "agreed_in_principle"
    And the correction recorded as version 3 is what closed the point "reciprocal tariff rate"
    And the correction recorded as version 3 is what changed version 2 in the story
    And the new event recorded as version 4 is what added version 4 to the story
    And nothing else changed

  Scenario: The second day must not come before the first
    Given the seed story "us-korea-2025" has been recorded in full
    When we ask what changed in what we knew between 22 September 2025 and 20 September 2025
    Then the comparison is refused: "known_at_2 (2025-09-20T23:59:59.999999+00:00) is before known_at_1"
    And nothing was recorded
