Feature: Working-level talks
  When the principals stall, officials below them take up the details. Talks
  can open from a deal agreed in principle, from disputed terms or after a
  cancelled visit; the points in dispute stay open and are worked through in
  the talks. Talks that are under way cannot be opened again.

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

  Scenario: Talks under way cannot be opened again
    Given working-level talks have opened
    When "WorkingLevelTalksOpened" is recorded
    Then the event is refused as not allowed in state "working_level_talks"
    And the message says why: "talks are already under way"
    And the message says what is allowed: "TermsDisputed, VisitCancelled, AgreementFinalised, TermsAmended"
    And nothing was recorded
