Feature: Amending the terms
  The recorded terms change as a deal is filled in: an executive order sets
  the rates, a clarification adds a date, a later notice implements a signed
  agreement (a tariff cut made retroactive). Terms can be amended in every
  state of an opened negotiation, finalised included, and amending them does
  not change the state.

  Background:
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle on these terms:
      | term              | value |
      | reciprocal tariff | 15%   |
      | auto tariff       | 27.5% |

  Scenario Outline: Terms can be amended whatever the state of the negotiation
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
      | finalised           | 3       |
