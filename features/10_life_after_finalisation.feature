Feature: Life after finalisation
  Finalised means enacted or signed, not frozen. After the signing, later
  notices implement the agreement (the terms are amended), a party may contest
  it again (a threatened tariff increase months after the fact sheet), and
  officials may go back to the table to implement it, a planned visit may be
  put off (see "Visits"), and a new deal may follow the signed one: the US
  and the UK, whose Economic Prosperity Deal was put into force by an
  executive order of 16 June 2025, announced a Technology Prosperity Deal on
  18 September. A negotiation contested again is finalised again, with new
  instruments, once its points are resolved. The thread is never lost: it
  stays one negotiation.

  Background:
    Given a negotiation "us-korea-2025" between "US" and "KR" agreed in principle
    And it is in state "finalised"

  Scenario: A finalised agreement is contested again
    When the point "legislative implementation" is disputed with these positions:
      | party | position                                                     |
      | US    | tariffs rise back to 25% unless the investment law is passed |
    Then "TermsDisputed" was recorded as version 3
    And the negotiation is "disputed_terms"
    And the open points are "legislative implementation"

  Scenario: Officials go back to the table to implement a signed agreement
    When working-level talks open:
      | venue  | Seoul                    |
      | agenda | investment fund projects |
    Then "WorkingLevelTalksOpened" was recorded as version 3
    And the negotiation is "working_level_talks"

  Scenario: A reopened agreement is finalised again with new instruments
    Given the point "legislative implementation" is disputed
    And the point "legislative implementation" is resolved
    When the agreement is finalised in these instruments:
      | instrument                                        |
      | special act on the US investment fund, as enacted |
    Then "AgreementFinalised" was recorded as version 5
    And the negotiation is "finalised"
    And the agreement stands in these instruments:
      | instrument                                        |
      | special act on the US investment fund, as enacted |

  Scenario: Implementation talks end in a new signed instrument
    Given working-level talks have opened
    When the agreement is finalised in these instruments:
      | instrument                       |
      | memorandum on the first projects |
    Then "AgreementFinalised" was recorded as version 4
    And the negotiation is "finalised"

  Scenario: A new deal follows the signed one
    Given the negotiation "us-uk-2025" opened with the deal between "US" and "GB" on 8 May 2025
    And the agreement was finalised on 16 June 2025 in "US executive order implementing the Economic Prosperity Deal"
    When the deal "Technology Prosperity Deal" is announced on 18 September 2025
    Then "AgreedInPrinciple" was recorded as version 3
    And the negotiation is "agreed_in_principle"
    And the agreement stands in these instruments:
      | instrument                                                   |
      | US executive order implementing the Economic Prosperity Deal |
    And its deals read:
      | date              | kind         | title                      |
      | 8 May 2025        | in principle |                            |
      | 16 June 2025      | finalised    |                            |
      | 18 September 2025 | in principle | Technology Prosperity Deal |

  Scenario: Nothing is resolved in a finalised agreement, for nothing is open
    When "DisputeResolved" is recorded for the point "tariff stacking"
    Then the event is refused as not allowed in state "finalised"
    And the message says why: "no disputed point is open"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended"
    And nothing was recorded
