Feature: What was true and what was known
  Two questions about the past have different answers once news arrives
  late or is corrected.

  What was true on a day: the negotiation as it stood then, told from
  everything we know now, late news and corrections included.

  What was known on a day: the negotiation as the reports received by then
  told it. News reported later is left out, and so is a correction until
  the day it was reported.

  The two together answer the question an analyst asks when reviewing a
  briefing: what did we know on 30 August about where things stood on 28
  August? A day means the whole of that day. About a day before the
  negotiation opened, or a day before anything about it was reported, there
  is nothing to tell.

  Background:
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "reciprocal tariff rate" was disputed on 5 August 2025
    And version 2 was corrected on 7 August 2025 to the point "tariff stacking", because "Japan disputed the stacking of tariffs, not the 15% rate"
    And the visit by "Ryosei Akazawa" was called off on 28 August 2025
    And working-level talks opened on 1 September 2025
    And the point "profit sharing" was disputed on 27 August 2025, reported on 2 September 2025
    And the point "tariff stacking" was resolved on 4 September 2025
    And the point "profit sharing" was resolved on 4 September 2025
    And the agreement was finalised on 4 September 2025 in "US executive order implementing the US–Japan agreement"

  Scenario Outline: What was true on a day, as we know it now
    When we ask how the negotiation stood on <day>
    Then it stood in state "<state>" with open points: <open points>
    And nothing was recorded

    Examples:
      | day              | state               | open points                     |
      | 22 July 2025     | agreed_in_principle | none                            |
      | 5 August 2025    | disputed_terms      | tariff stacking                 |
      | 27 August 2025   | disputed_terms      | tariff stacking, profit sharing |
      | 28 August 2025   | visit_cancelled     | tariff stacking, profit sharing |
      | 1 September 2025 | working_level_talks | tariff stacking, profit sharing |
      | 4 September 2025 | finalised           | none                            |

  Scenario Outline: What was known on a day
    When we ask how the negotiation stood as known on <day>
    Then it stood in state "<state>" with open points: <open points>
    And nothing was recorded

    Examples:
      | day              | state               | open points                     |
      | 5 August 2025    | disputed_terms      | reciprocal tariff rate          |
      | 7 August 2025    | disputed_terms      | tariff stacking                 |
      | 30 August 2025   | visit_cancelled     | tariff stacking                 |
      | 1 September 2025 | working_level_talks | tariff stacking                 |
      | 2 September 2025 | working_level_talks | tariff stacking, profit sharing |
      | 4 September 2025 | finalised           | none                            |

  Scenario Outline: What we knew on one day about another
    When we ask how the negotiation stood on <day>, as known on <known on>
    Then it stood in state "<state>" with open points: <open points>

    Examples:
      | day            | known on         | state           | open points                     |
      | 28 August 2025 | 30 August 2025   | visit_cancelled | tariff stacking                 |
      | 28 August 2025 | 2 September 2025 | visit_cancelled | tariff stacking, profit sharing |
      | 6 August 2025  | 6 August 2025    | disputed_terms  | reciprocal tariff rate          |
      | 6 August 2025  | 7 August 2025    | disputed_terms  | tariff stacking                 |

  Scenario: The story as it was known on a day
    Then the story as known on 30 August 2025 reads:
      | date           | event             | version | corrected by |
      | 22 July 2025   | AgreedInPrinciple | 1       |              |
      | 5 August 2025  | TermsDisputed     | 2       | 3            |
      | 28 August 2025 | VisitCancelled    | 4       |              |
    And the story up to 28 August 2025 reads:
      | date           | event             | version |
      | 22 July 2025   | AgreedInPrinciple | 1       |
      | 5 August 2025  | TermsDisputed     | 2       |
      | 27 August 2025 | TermsDisputed     | 6       |
      | 28 August 2025 | VisitCancelled    | 4       |

  Scenario: Nothing can be told about a day before the negotiation opened
    When we ask how the negotiation stood on 21 July 2025
    Then the question is refused: "negotiation 'us-japan-2025' is unknown then: it had not opened by 2025-07-21T23:59:59.999999+00:00"

  Scenario: Nothing can be told as known on a day before anything was reported
    When we ask how the negotiation stood on 4 September 2025, as known on 1 July 2025
    Then the question is refused: "negotiation 'us-japan-2025' is unknown then: nothing about it had been reported by 2025-07-01T23:59:59.999999+00:00"
