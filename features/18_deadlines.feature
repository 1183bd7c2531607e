Feature: Deadlines
  Negotiations run against dates: "a deal within 90 days", an ultimatum, the
  day a truce ends. On 9 April 2025 the US paused its new tariffs for 90
  days, until 9 July, for deals to be struck; on 7 July it moved that date to
  1 August. A deadline is recorded beside the phase with what it is for, the
  day it falls due and the party that set it; setting the same deadline again
  moves it, and the deadline is then due on its new day. It is pending until
  its day ends, then it has passed (see "Time decides"), and it never moves
  the phase. Only a party to the negotiation sets one.

  Background:
    Given the negotiation "us-japan-2025" opened with working-level talks between "US" and "JP" on 16 April 2025

  Scenario: A deadline is set
    When on 16 April 2025 "US" sets the deadline "deals with trading partners" for 9 July 2025
    Then "DeadlineSet" was recorded as version 2
    And the negotiation is "working_level_talks"
    And the deadlines read:
      | what                        | due        | by | set on     |
      | deals with trading partners | 2025-07-09 | US | 2025-04-16 |
    And as of 1 July 2025 the deadline "deals with trading partners" is "pending"

  Scenario: Setting the same deadline again moves it
    Given on 16 April 2025 "US" set the deadline "deals with trading partners" for 9 July 2025
    When on 7 July 2025 "US" sets the deadline "deals with trading partners" for 1 August 2025
    Then "DeadlineSet" was recorded as version 3
    And the deadlines read:
      | what                        | due        | by | set on     |
      | deals with trading partners | 2025-08-01 | US | 2025-07-07 |
    And as of 10 July 2025 the deadline "deals with trading partners" is "pending"

  Scenario: Each deadline is kept apart
    Given on 16 April 2025 "US" set the deadline "deals with trading partners" for 9 July 2025
    When on 22 July 2025 "JP" sets the deadline "first investment projects chosen" for 31 December 2025
    Then the deadlines read:
      | what                             | due        | by |
      | deals with trading partners      | 2025-07-09 | US |
      | first investment projects chosen | 2025-12-31 | JP |

  Scenario Outline: A deadline never moves the phase
    Given the deal "Japan–US agreement" was announced on 22 July 2025
    And it is in state "<state>"
    When "US" sets the deadline "deals with trading partners" for 1 August 2025
    Then "DeadlineSet" was recorded as version <version>
    And the negotiation is "<state>"

    Examples:
      | state               | version |
      | agreed_in_principle | 3       |
      | disputed_terms      | 4       |
      | visit_cancelled     | 4       |
      | working_level_talks | 4       |
      | talks_suspended     | 4       |
      | finalised           | 4       |

  Scenario: Only a party to the negotiation sets a deadline
    When on 16 April 2025 "CN" sets the deadline "deals with trading partners" for 9 July 2025
    Then the event is refused as invalid: "by: CN is not a party to 'us-japan-2025' (US, JP)"
    And nothing was recorded

  Scenario: A deadline falls due on a day
    When on 16 April 2025 "US" sets the deadline "deals with trading partners" for "in 90 days"
    Then the event is refused as invalid: "due:"
    And nothing was recorded
