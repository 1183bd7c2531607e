Feature: Amending the terms
  The recorded terms change as a deal is filled in: an executive order sets
  the rates, a clarification adds a date. Terms can be amended in every state
  of an open negotiation, and amending them does not change the state. Once
  the agreement is finalised its terms are those of the instruments, and
  nothing amends them.

  Background:
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle on these terms:
      | term              | value |
      | reciprocal tariff | 15%   |
      | auto tariff       | 27.5% |

  Scenario Outline: Terms can be amended whatever the state of an open negotiation
    Given it is in state "<state>"
    When the terms are amended:
      | term                       | value |
      | auto tariff                | 15%   |
      | stacking on Japanese goods | none  |
    Then "TermsAmended" was recorded as version <version>
    And the negotiation is "<state>"
    And the recorded terms include:
      | term                       | value |
      | reciprocal tariff          | 15%   |
      | auto tariff                | 15%   |
      | stacking on Japanese goods | none  |

    Examples:
      | state               | version |
      | agreed_in_principle | 2       |
      | disputed_terms      | 3       |
      | visit_cancelled     | 3       |
      | working_level_talks | 3       |
