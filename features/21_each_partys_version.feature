Feature: Each party's version of the terms
  The two sides of a deal rarely tell it the same way. When the US and Japan
  agreed on 22 July 2025, the White House said the US would keep 90% of the
  profits of Japan's US$550 billion investment; Tokyo said the profits would
  follow each side's contribution and risk. When the US announced its deal
  with Vietnam on 2 July, it named a 40% tariff on goods transshipped through
  Vietnam; Hanoi's account named none.

  Terms given as what one party says ("according to") are that party's
  version; terms given by no one in particular are the common terms. A
  negotiation shows its common terms, each party's view of the terms (the
  common terms, overlaid with what that party says), and the terms on which
  the two views differ. A version is only ever a party's: one according to
  anyone else is refused.

  Background:
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025 on these terms:
      | term                     | value        |
      | reciprocal tariff        | 15%          |
      | investment package (USD) | 550000000000 |

  Scenario: Each side tells the deal its own way
    When on 23 July 2025 "US" says these are the terms:
      | term                       | value         |
      | share of investment profit | 90% to the US |
    And on 25 July 2025 "JP" says these are the terms:
      | term                       | value                                |
      | share of investment profit | by each side's contribution and risk |
    Then "TermsAmended" was recorded as version 3
    And the common terms are:
      | term                     | value        |
      | reciprocal tariff        | 15%          |
      | investment package (USD) | 550000000000 |
    And the terms according to "US" are:
      | term                       | value         |
      | reciprocal tariff          | 15%           |
      | investment package (USD)   | 550000000000  |
      | share of investment profit | 90% to the US |
    And the terms according to "JP" are:
      | term                       | value                                |
      | reciprocal tariff          | 15%                                  |
      | investment package (USD)   | 550000000000                         |
      | share of investment profit | by each side's contribution and risk |
    And the two versions differ on "share of investment profit"

  Scenario: A deal announced by one side is that side's version
    Given the negotiation "us-vietnam-2025" opened with working-level talks between "US" and "VN" on 11 June 2025
    When on 2 July 2025 the deal is announced by "US" on these terms:
      | term                         | value |
      | tariff on Vietnamese goods   | 20%   |
      | tariff on transshipped goods | 40%   |
    And on 3 July 2025 "VN" says these are the terms:
      | term                       | value |
      | tariff on Vietnamese goods | 20%   |
    Then the negotiation is "agreed_in_principle"
    And the common terms are:
      | term | value |
    And the two versions differ on "tariff on transshipped goods"

  Scenario: Where both sides say the same, the versions agree
    When on 23 July 2025 "US" says these are the terms:
      | term        | value |
      | auto tariff | 15%   |
    And on 23 July 2025 "JP" says these are the terms:
      | term        | value |
      | auto tariff | 15%   |
    Then the two versions agree

  Scenario: A version is only ever a party's
    When on 23 July 2025 "KR" says these are the terms:
      | term        | value |
      | auto tariff | 15%   |
    Then the event is refused as invalid: "according_to: KR is not a party to 'us-japan-2025' (US, JP)"
    And nothing was recorded
