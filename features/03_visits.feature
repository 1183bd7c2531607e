Feature: Visits
  A high-level visit is often planned to settle what officials could not.
  When it is called off, or put off to a later date, the negotiation is
  marked as a cancelled visit; the points in dispute stay open. Visits are
  called off one after another: the minister's trip is called off, then the
  negotiators' visit meant to prepare the next one, and each is recorded,
  the negotiation staying a cancelled visit. After the signing, a visit put
  off leaves the agreement standing: the deal is still finalised. (A visit
  called off before any deal opens the negotiation: see "Opening a
  negotiation"; one called off while talks are broken off leaves them off:
  see "Talks suspended".)

  Background:
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle

  Scenario Outline: Calling off a planned visit
    Given it is in state "<state>"
    When a visit is cancelled:
      | envoy       | Ryosei Akazawa                                           |
      | planned for | 2025-08-28                                               |
      | reason      | technical and administrative issues need more discussion |
    Then "VisitCancelled" was recorded as version <version>
    And the negotiation is "visit_cancelled"
    And the recorded event says:
      | envoy       | Ryosei Akazawa                                           |
      | planned for | 2025-08-28                                               |
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

  Scenario: Another visit is called off while one already is
    Given the visit by "Ryosei Akazawa" is cancelled
    When a visit is cancelled:
      | envoy  | US trade delegation                      |
      | reason | the minister's trip was called off first |
    Then "VisitCancelled" was recorded as version 3
    And the negotiation is "visit_cancelled"
    And the recorded event says:
      | envoy | US trade delegation |

  Scenario: A visit put off after the signing leaves the agreement finalised
    Given it is in state "finalised"
    When a visit is cancelled:
      | envoy           | Ryosei Akazawa |
      | postponed       | true           |
      | rescheduled for | 2025-10-27     |
    Then "VisitCancelled" was recorded as version 3
    And the negotiation is "finalised"
    And the recorded event says:
      | envoy           | Ryosei Akazawa |
      | postponed       | True           |
      | rescheduled for | 2025-10-27     |

  Scenario: A cancellation names the envoy whose visit was called off
    When a visit is cancelled:
      | reason | no new date set |
    Then the event is refused as invalid: "envoy: Field required"
    And nothing was recorded
