Feature: Working-level talks
  When the principals stall, officials below them take up the details. Talks
  can open from a deal agreed in principle, from disputed terms, after a
  cancelled visit, or after the signing, to carry the agreement out; the
  points in dispute stay open and are worked through in the talks.

  Talks come in rounds, and a new round opens while talks are under way: the
  US and China met for a first round in Geneva on 10 May 2025, then in London,
  Stockholm and Madrid, and for a fifth round in Kuala Lumpur on 25 October.
  Each round is recorded with its number and venue, and the negotiation stays
  in working-level talks. (Talks that resume after they were broken off: see
  "Talks suspended".)

  Background:
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle

  Scenario Outline: Officials take up the details
    Given it is in state "<state>"
    When working-level talks open:
      | venue  | Washington                      |
      | agenda | profit sharing, tariff stacking |
    Then "WorkingLevelTalksOpened" was recorded as version <version>
    And the negotiation is "working_level_talks"
    And the recorded event says:
      | venue  | Washington                      |
      | agenda | profit sharing, tariff stacking |

    Examples:
      | state               | version |
      | agreed_in_principle | 2       |
      | disputed_terms      | 3       |
      | visit_cancelled     | 3       |
      | finalised           | 3       |

  Scenario: The points in dispute stay open during the talks
    Given the point "tariff stacking" is disputed
    And the visit by "Ryosei Akazawa" is cancelled
    When "WorkingLevelTalksOpened" is recorded
    Then the negotiation is "working_level_talks"
    And the open points are "tariff stacking"

  Scenario: A new round opens while talks are under way
    Given the negotiation "us-china-2025" opened with working-level talks between "US" and "CN" on 10 May 2025
    When a new round of talks opens on 25 October 2025:
      | round  | 5                                   |
      | venue  | Kuala Lumpur                        |
      | agenda | export controls, fentanyl, soybeans |
    Then "WorkingLevelTalksOpened" was recorded as version 2
    And the negotiation is "working_level_talks"
    And the recorded event says:
      | round  | 5                                   |
      | venue  | Kuala Lumpur                        |
      | agenda | export controls, fentanyl, soybeans |
