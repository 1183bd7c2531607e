Feature: Visits
  A high-level visit is often planned to settle what officials could not.
  When it is called off, the negotiation is marked as a cancelled visit; the
  points in dispute stay open. A visit that is off cannot be called off again:
  the negotiation first has to move on, to new disputes or to working-level
  talks. A finalised agreement has no visit to call off: it is contested again
  or taken back to talks first. (A visit called off before any deal opens the
  negotiation: see "Opening a negotiation".)

  Background:
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle

  Scenario Outline: Calling off a planned visit
    Given it is in state "<state>"
    When a visit is cancelled:
      | envoy       | Ryosei Akazawa                                          |
      | planned for | 2025-08-28                                              |
      | reason      | technical and administrative issues need more discussion |
    Then "VisitCancelled" was recorded as version <version>
    And the negotiation is "visit_cancelled"
    And the recorded event says:
      | envoy       | Ryosei Akazawa                                          |
      | planned for | 2025-08-28                                              |
      | reason      | technical and administrative issues need more discussion |

    Examples:
      | state               | version |
      | agreed_in_principle | 2       |
      | disputed_terms      | 3       |
      | working_level_talks | 3       |

  Scenario: The points in dispute stay open when the visit is called off
    Given the point "profit sharing" is disputed
    When "VisitCancelled" is recorded
    Then the negotiation is "visit_cancelled"
    And the open points are "profit sharing"

  Scenario: A visit that is off cannot be called off again
    Given the visit by "Ryosei Akazawa" is cancelled
    When "VisitCancelled" is recorded
    Then the event is refused as not allowed in state "visit_cancelled"
    And the message says why: "the visit is already off"
    And the message says what is allowed: "TermsDisputed, WorkingLevelTalksOpened, TermsAmended"
    And nothing was recorded

  Scenario: A cancellation names the envoy whose visit was called off
    When a visit is cancelled:
      | reason | no new date set |
    Then the event is refused as invalid: "envoy: Field required"
    And nothing was recorded

  Scenario: A finalised agreement has no visit to call off
    Given it is in state "finalised"
    When "VisitCancelled" is recorded
    Then the event is refused as not allowed in state "finalised"
    And the message says what is allowed: "TermsDisputed, WorkingLevelTalksOpened, TermsAmended"
    And nothing was recorded
