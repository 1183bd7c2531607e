Feature: Replaying history
  A negotiation is what its recorded events make it, applied in order. Any
  earlier moment can be replayed: the negotiation as it stood after a given
  version, as an analyst would have seen it then. Replaying only reads; it
  never changes the log.

  Background:
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle
    And the point "tariff stacking" is disputed
    And the point "profit sharing" is disputed
    And the visit by "Ryosei Akazawa" is cancelled
    And working-level talks have opened
    And the point "tariff stacking" is resolved
    And the point "profit sharing" is resolved
    And it is in state "finalised"

  Scenario Outline: The negotiation as it stood after each version
    When the negotiation is replayed up to version <version>
    Then it stood in state "<state>" with open points: <open points>
    And nothing was recorded

    Examples:
      | version | state               | open points                     |
      | 1       | agreed_in_principle | none                            |
      | 2       | disputed_terms      | tariff stacking                 |
      | 3       | disputed_terms      | tariff stacking, profit sharing |
      | 4       | visit_cancelled     | tariff stacking, profit sharing |
      | 5       | working_level_talks | tariff stacking, profit sharing |
      | 6       | working_level_talks | profit sharing                  |
      | 7       | working_level_talks | none                            |
      | 8       | finalised           | none                            |

  Scenario: Replaying the whole history gives the negotiation as it stands
    When the negotiation is replayed
    Then it stood in state "finalised" with open points: none
    And the negotiation is "finalised"
    And the negotiation has 8 events

  Scenario: A version beyond the history cannot be replayed
    When the negotiation is replayed up to version 9
    Then the replay is refused: "negotiation 'us-japan-2025' has only 8 events, not 9"

  Scenario: A negotiation that was never recorded cannot be replayed
    When the negotiation "india-korea-2025" is replayed
    Then the replay is refused: "negotiation 'india-korea-2025' has no recorded events"
