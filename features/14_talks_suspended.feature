Feature: Talks suspended
  Talks are broken off far more often than a deal is signed. On 27 June 2025
  the US "terminated" all trade talks with Canada over its digital services
  tax, and took them up again two days later, when Ottawa dropped the tax; on
  23 October it terminated them once more, over a television advertisement
  of the province of Ontario. A party suspends, freezes or terminates the
  talks, and until they resume nothing is being negotiated: the negotiation
  is in talks suspended, and the suspension names the party that broke off
  (one of the two) and, if it said so, that it "terminated" them.

  While the talks are off the world goes on, and the talks stay off: a point
  is disputed or settled in public, a planned visit is called off, terms are
  amended, and the side that broke off may say it again. Talks resume when
  officials take them up again (working-level talks), or a deal may be
  announced straight away, leaving any open point open. But nothing is
  finalised while the talks are off: they resume first. Talks that never
  opened cannot be broken off.

  Scenario: A party terminates the talks
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    When on 27 June 2025 "US" terminates the talks, because "Canada's digital services tax"
    Then "TalksSuspended" was recorded as version 2
    And the negotiation is "talks_suspended"
    And the talks were broken off by "US"
    And the recorded event says:
      | by         | US                            |
      | terminated | True                          |
      | reason     | Canada's digital services tax |

  Scenario: Talks resume when officials take them up again
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    And on 27 June 2025 "US" broke off the talks
    When working-level talks resume on 29 June 2025
    Then "WorkingLevelTalksOpened" was recorded as version 3
    And the negotiation is "working_level_talks"
    And the talks are not broken off

  Scenario: The side that broke off says it again, and the talks stay off
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    And on 23 October 2025 "US" broke off the talks
    When on 25 October 2025 "US" terminates the talks, because "the Ontario advertisement was not pulled at once"
    Then "TalksSuspended" was recorded as version 3
    And the negotiation is "talks_suspended"
    And the talks were broken off by "US"

  Scenario Outline: Talks are broken off whatever stage they had reached
    Given a negotiation "us-india-2025" between "US" and "IN" agreed in principle
    And it is in state "<state>"
    When "<party>" suspends the talks
    Then "TalksSuspended" was recorded as version <version>
    And the negotiation is "talks_suspended"
    And the talks were broken off by "<party>"

    Examples:
      | state               | party | version |
      | agreed_in_principle | US    | 2       |
      | disputed_terms      | IN    | 3       |
      | visit_cancelled     | US    | 3       |
      | working_level_talks | IN    | 3       |
      | finalised           | US    | 3       |

  Scenario: A dispute aired while the talks are off keeps them off
    Given a negotiation "us-canada-2025" between "US" and "CA" opened by working-level talks
    And "US" broke off the talks
    When the point "dairy supply management" is disputed with these positions:
      | party | position                              |
      | US    | the dairy quotas must be opened       |
      | CA    | supply management is not on the table |
    Then "TermsDisputed" was recorded as version 3
    And the negotiation is "talks_suspended"
    And the open points are "dairy supply management"

  Scenario: A point settled while the talks are off keeps them off
    Given a negotiation "us-canada-2025" between "US" and "CA" opened by working-level talks
    And the point "digital services tax" is disputed
    And "US" broke off the talks
    When "DisputeResolved" is recorded for the point "digital services tax"
    Then "DisputeResolved" was recorded as version 4
    And the negotiation is "talks_suspended"
    And no point is open

  Scenario: Nothing can be settled while the talks are off and no point is open
    Given a negotiation "us-canada-2025" between "US" and "CA" opened by working-level talks
    And "US" broke off the talks
    When "DisputeResolved" is recorded for the point "digital services tax"
    Then the event is refused as not allowed in state "talks_suspended"
    And the message says why: "no disputed point is open"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended"
    And nothing was recorded

  Scenario: A visit called off while the talks are off keeps them off
    Given a negotiation "us-canada-2025" between "US" and "CA" opened by working-level talks
    And "US" broke off the talks
    When a visit is cancelled:
      | envoy  | Dominic LeBlanc         |
      | reason | the talks are suspended |
    Then "VisitCancelled" was recorded as version 3
    And the negotiation is "talks_suspended"

  Scenario: Terms amended while the talks are off keep them off
    Given a negotiation "us-canada-2025" between "US" and "CA" opened by working-level talks
    And "US" broke off the talks
    When the terms are amended:
      | term                              | value |
      | tariff on goods outside the USMCA | 35%   |
    Then "TermsAmended" was recorded as version 3
    And the negotiation is "talks_suspended"

  Scenario: A deal announced while the talks are off ends the suspension
    Given a negotiation "us-canada-2025" between "US" and "CA" opened by working-level talks
    And "CA" broke off the talks
    When the deal between "US" and "CA" is announced
    Then "AgreedInPrinciple" was recorded as version 3
    And the negotiation is "agreed_in_principle"
    And the talks are not broken off

  Scenario: A deal announced while the talks are off leaves an open point open
    Given a negotiation "us-canada-2025" between "US" and "CA" opened by working-level talks
    And the point "dairy supply management" is disputed
    And "CA" broke off the talks
    When the deal between "US" and "CA" is announced
    Then "AgreedInPrinciple" was recorded as version 4
    And the negotiation is "disputed_terms"
    And the open points are "dairy supply management"

  Scenario: Nothing is finalised while the talks are off
    Given a negotiation "us-canada-2025" between "US" and "CA" agreed in principle
    And "US" broke off the talks
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "talks_suspended"
    And the message says why: "talks are off; they resume before a deal is finalised"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended"
    And nothing was recorded

  Scenario: Talks that never opened cannot be broken off
    Given no negotiation "us-canada-2025" has been recorded yet
    When "TalksSuspended" is recorded
    Then the event is refused as not allowed in state "not_opened"
    And the message says why: "nothing has opened the negotiation"
    And the message says what is allowed: "AgreedInPrinciple, VisitCancelled, WorkingLevelTalksOpened"
    And nothing was recorded

  Scenario: Only a party to the negotiation breaks off its talks
    Given a negotiation "us-canada-2025" between "US" and "CA" opened by working-level talks
    When "MX" suspends the talks
    Then the event is refused as invalid: "by: MX is not a party to 'us-canada-2025' (US, CA)"
    And nothing was recorded
