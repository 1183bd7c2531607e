Feature: Meetings
  Most of what is reported about a negotiation is someone meeting someone: a
  round of officials' talks, ministers meeting over two days in Geneva or
  London, leaders on the telephone or at a summit. The US Treasury Secretary
  and the US Trade Representative met China's vice-premier in Geneva on 10
  and 11 May 2025; the two presidents spoke by telephone on 5 June, and met
  at Busan on 30 October.

  A meeting is recorded beside the phase, at its level (working, ministerial
  or leaders), in person, by call or by video, with its venue, who took part
  and, for a meeting of several days, the day it ended. It never moves the
  phase: the phase says where the negotiation stands, a meeting only that
  people met. (A new round of talks opened at a meeting is recorded as
  working-level talks as well: see "Working-level talks".)

  Background:
    Given the negotiation "us-china-2025" opened with working-level talks between "US" and "CN" on 10 May 2025

  Scenario: Ministers meet over two days
    When a meeting is held on 10 May 2025:
      | level        | ministerial                              |
      | format       | in person                                |
      | venue        | Geneva                                   |
      | participants | Scott Bessent, Jamieson Greer, He Lifeng |
      | ends on      | 2025-05-11                               |
    Then "MeetingHeld" was recorded as version 2
    And the negotiation is "working_level_talks"
    And the meetings read:
      | date        | level       | format    | venue  | ends on    |
      | 10 May 2025 | ministerial | in person | Geneva | 2025-05-11 |

  Scenario: Leaders speak by telephone, then meet at a summit
    When a meeting is held on 5 June 2025:
      | level        | leaders                   |
      | format       | call                      |
      | participants | Donald Trump, Xi Jinping  |
      | summary      | a 90-minute call on trade |
    And a meeting is held on 30 October 2025:
      | level  | leaders   |
      | format | in person |
      | venue  | Busan     |
    Then "MeetingHeld" was recorded as version 3
    And the negotiation is "working_level_talks"
    And the meetings read:
      | date            | level   | format    | venue |
      | 5 June 2025     | leaders | call      |       |
      | 30 October 2025 | leaders | in person | Busan |

  Scenario Outline: A meeting never moves the phase
    Given the deal "Geneva truce" was announced on 12 May 2025
    And it is in state "<state>"
    When a meeting is held:
      | level  | working |
      | format | video   |
    Then "MeetingHeld" was recorded as version <version>
    And the negotiation is "<state>"

    Examples:
      | state               | version |
      | agreed_in_principle | 3       |
      | disputed_terms      | 4       |
      | visit_cancelled     | 4       |
      | working_level_talks | 4       |
      | talks_suspended     | 4       |
      | finalised           | 4       |

  Scenario: A meeting is at one of three levels
    When a meeting is held:
      | level | heads of delegation |
    Then the event is refused as invalid: "level: Input should be 'working', 'ministerial' or 'leaders'"
    And nothing was recorded

  Scenario: A meeting is held in person, by call or by video
    When a meeting is held:
      | level  | leaders |
      | format | letter  |
    Then the event is refused as invalid: "format: Input should be 'in person', 'call' or 'video'"
    And nothing was recorded
