Feature: Denied reports
  Reports are denied as often as they are corrected. On 25 April 2025 the US
  President said that Xi Jinping had called him; Beijing said no such call
  had taken place, and that no talks on tariffs were being held. On 15
  October he said India's prime minister had assured him that India would
  stop buying Russian oil; New Delhi said it knew of no conversation between
  the two that day. An analyst cannot know who is right, and must not lose
  either side's word.

  So a denial is recorded as an entry of the log that targets the event
  denied, naming who denies it (a party, or a source) and what they said. The
  event stays in the story, marked as denied, and by whom: the negotiation
  still counts it. A question can leave the denied events out, and then the
  story and the negotiation are told without them. Only an event can be
  denied: not a retraction, a correction or another denial, and not an event
  already retracted (it is out of the story already). A denial that is
  refused is refused whole: nothing is recorded.

  Scenario: A reported call is denied, and stays in the story, marked as denied
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And a meeting was held on 24 April 2025:
      | level  | leaders |
      | format | call    |
    When version 2 is denied by "CN", who says "no such call took place"
    Then "ReportDenied" was recorded as version 3
    And the story reads:
      | date          | event          | version | denied by |
      | 9 April 2025  | MeasureImposed | 1       |           |
      | 24 April 2025 | MeetingHeld    | 2       | CN        |
    And the negotiation holds 1 meetings

  Scenario: A question can leave the denied reports out
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And a meeting was held on 24 April 2025:
      | level  | leaders |
      | format | call    |
    And version 2 was denied by "CN"
    When we ask how the negotiation stands, leaving denied reports out
    Then the answer holds 0 meetings
    And nothing was recorded
    And the story leaving denied reports out reads:
      | date         | event          | version |
      | 9 April 2025 | MeasureImposed | 1       |

  Scenario: A report denied by a party and by a source
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And a meeting was held on 24 April 2025:
      | level  | leaders |
      | format | call    |
    And version 2 was denied by "CN"
    When version 2 is denied by "Xinhua", who says "there has been no call between the two heads of state"
    Then "ReportDenied" was recorded as version 4
    And the story reads:
      | date          | event          | version | denied by  |
      | 9 April 2025  | MeasureImposed | 1       |            |
      | 24 April 2025 | MeetingHeld    | 2       | CN, Xinhua |

  Scenario: A call retracted cannot be denied
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And a meeting was held on 24 April 2025:
      | level  | leaders |
      | format | call    |
    And version 2 was retracted, because "the call was not confirmed"
    When version 2 is denied by "CN", who says "no such call took place"
    Then it is refused: "ReportDenied of version 2: version 2 (MeetingHeld) was already retracted by version 3"
    And nothing was recorded

  Scenario: One side's version of the terms, denied by the other
    Given the negotiation "us-india-2025" opened with working-level talks between "US" and "IN" on 26 March 2025
    And on 15 October 2025 "US" said these were the terms:
      | term                  | value         |
      | Russian oil purchases | to be stopped |
    When version 2 is denied by "IN", who says "we are not aware of any conversation between the leaders yesterday"
    And we ask how the negotiation stands, leaving denied reports out
    Then the answer's terms according to "US" do not include "Russian oil purchases"
    And the terms according to "US" are:
      | term                  | value         |
      | Russian oil purchases | to be stopped |

  Scenario Outline: A report is denied, whatever has happened since
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the terms were amended on 23 July 2025:
      | term        | value             |
      | rice market | opened to US rice |
    And it is in state "<state>"
    When version 2 is denied by "JP", who says "imports stay within the minimum-access quota"
    Then "ReportDenied" was recorded as version <version>
    And the negotiation is "<state>"
    And the recorded terms include:
      | term        | value             |
      | rice market | opened to US rice |

    Examples:
      | state               | version |
      | agreed_in_principle | 3       |
      | disputed_terms      | 4       |
      | visit_cancelled     | 4       |
      | working_level_talks | 4       |
      | talks_suspended     | 4       |
      | finalised           | 4       |

  Scenario Outline: A retracted report cannot be denied
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the terms were amended on 23 July 2025:
      | term        | value             |
      | rice market | opened to US rice |
    And version 2 was retracted, because "the remark was misquoted"
    And it is in state "<state>"
    When version 2 is denied by "JP", who says "imports stay within the minimum-access quota"
    Then it is refused: "ReportDenied of version 2: version 2 (TermsAmended) was already retracted by version 3"
    And nothing was recorded

    Examples:
      | state               |
      | agreed_in_principle |
      | disputed_terms      |
      | visit_cancelled     |
      | working_level_talks |
      | talks_suspended     |
      | finalised           |

  Scenario Outline: Only an event can be denied
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the terms were amended on 23 July 2025:
      | term        | value             |
      | rice market | opened to US rice |
    And version 2 was <changed>
    When version 3 is denied by "JP", who says "the report was wrong"
    Then it is refused: "version 3 is an <entry>, not an event; only events can be retracted, corrected or denied"
    And nothing was recorded

    Examples:
      | changed                                                                         | entry          |
      | corrected to have happened on 24 July 2025, because "it was said the day after" | EventCorrected |
      | denied by "JP"                                                                  | ReportDenied   |

  Scenario: A country that denies a report is one of the parties; an outlet is named as a source
    Given the negotiation "us-china-2025" began on 9 April 2025 with "US" imposing "reciprocal tariff" at "34%" on "CN"
    And a meeting was held on 24 April 2025:
      | level  | leaders |
      | format | call    |
    When version 2 is denied by "JP", who says "no such call took place"
    Then it is refused: "ReportDenied of version 2: by: JP is not a party to 'us-china-2025' (US, CN)"
    And nothing was recorded

