Feature: Opening a negotiation
  A negotiation starts when two countries announce a deal in principle. Before
  that nothing can be recorded about it, and once it is open it cannot be
  opened a second time.

  Whenever the ledger refuses an event, the message names the negotiation, the
  state it is in, the event and what it would have accepted instead, and the
  log is left exactly as it was.

  Scenario: Announcing a deal opens the negotiation
    Given no negotiation "us-japan-2025" has been recorded yet
    When the deal between "US" and "JP" is announced on these terms:
      | term                     | value        |
      | reciprocal tariff        | 15%          |
      | auto tariff              | 15%          |
      | investment package (USD) | 550000000000 |
    Then "AgreedInPrinciple" was recorded as version 1
    And the negotiation is "agreed_in_principle"
    And the parties are "US" and "JP"
    And the recorded terms include:
      | term                     | value        |
      | reciprocal tariff        | 15%          |
      | auto tariff              | 15%          |
      | investment package (USD) | 550000000000 |
    And no point is open

  Scenario Outline: Nothing can be recorded before a deal is announced
    Given no negotiation "us-japan-2025" has been recorded yet
    When "<event>" is recorded
    Then the event is refused as not allowed in state "not_opened"
    And the message says what is allowed: "AgreedInPrinciple"
    And nothing was recorded

    Examples:
      | event                   |
      | TermsDisputed           |
      | DisputeResolved         |
      | VisitCancelled          |
      | WorkingLevelTalksOpened |
      | AgreementFinalised      |
      | TermsAmended            |

  Scenario Outline: A negotiation cannot be opened a second time
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle
    And it is in state "<state>"
    When the deal between "US" and "JP" is announced
    Then the event is refused as not allowed in state "<state>"
    And the message says what is allowed: "<allowed instead>"
    And nothing was recorded

    Examples:
      | state               | allowed instead                                                                         |
      | agreed_in_principle | TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, AgreementFinalised, TermsAmended |
      | disputed_terms      | TermsDisputed, DisputeResolved, VisitCancelled, WorkingLevelTalksOpened, TermsAmended    |
      | visit_cancelled     | TermsDisputed, WorkingLevelTalksOpened, TermsAmended                                    |
      | working_level_talks | TermsDisputed, VisitCancelled, AgreementFinalised, TermsAmended                         |
      | finalised           | nothing (the negotiation is closed)                                                     |

  Scenario: A deal needs two different countries
    Given no negotiation "india-japan-2025" has been recorded yet
    When the deal between "IN" and "IN" is announced
    Then the event is refused as invalid: "parties must be two distinct countries"
    And nothing was recorded

  Scenario: Parties are named by their two-letter country codes
    Given no negotiation "us-japan-2025" has been recorded yet
    When the deal between "US" and "XX" is announced
    Then the event is refused as invalid: "'XX' is not an ISO 3166 alpha-2 country code"
    And nothing was recorded
