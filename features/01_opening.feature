Feature: Opening a negotiation
  A negotiation opens with the first thing reported about it: the
  announcement of a deal in principle, or, as often happens, working-level
  talks or a high-level visit called off before any deal is struck. Whatever
  opens it names the two parties: countries by their two-letter ISO codes, and
  the European Union as "EU". Before that nothing of the phase can be
  recorded about it: there is nothing to dispute, resolve, break off,
  finalise or amend. (Pressure that comes before any talks, a tariff
  threatened or a deadline set, makes a negotiation known without opening
  it: see "Pressure before talks".)

  When talks or a cancelled visit came first, the deal may follow, between
  the same two parties. A negotiation often has more than one deal: the US
  and China agreed a truce at Geneva on 12 May 2025, a framework to carry it
  out in London on 10 June, and a further deal once their leaders had met at
  Busan on 30 October. Each later deal in principle revises the one before;
  it is not refused. Nor is a deal announced while a point is in dispute:
  the US–Vietnam deal of 2 July 2025 was announced with what counts as
  transshipment left undefined, and that point stayed open after it.

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
    And a deal in principle has been announced
    And the recorded terms include:
      | term                     | value        |
      | reciprocal tariff        | 15%          |
      | auto tariff              | 15%          |
      | investment package (USD) | 550000000000 |
    And no point is open

  Scenario: Working-level talks open a negotiation before any deal
    Given no negotiation "us-korea-2025" has been recorded yet
    When working-level talks between "US" and "KR" open
    Then "WorkingLevelTalksOpened" was recorded as version 1
    And the negotiation is "working_level_talks"
    And the parties are "US" and "KR"
    And no deal in principle has been announced yet

  Scenario: A visit called off before any deal opens the negotiation
    Given no negotiation "us-korea-2025" has been recorded yet
    When a visit between "US" and "KR" is called off
    Then "VisitCancelled" was recorded as version 1
    And the negotiation is "visit_cancelled"
    And the parties are "US" and "KR"
    And no deal in principle has been announced yet

  Scenario Outline: Whatever opens a negotiation names its two parties
    Given no negotiation "us-korea-2025" has been recorded yet
    When "<event>" is recorded
    Then the event is refused as invalid: "<event> opens negotiation 'us-korea-2025', so it must name the two parties"
    And nothing was recorded

    Examples:
      | event                   |
      | VisitCancelled          |
      | WorkingLevelTalksOpened |

  Scenario Outline: Nothing but a deal, talks or a cancelled visit can open a negotiation
    Given no negotiation "us-japan-2025" has been recorded yet
    When "<event>" is recorded
    Then the event is refused as not allowed in state "not_opened"
    And the message says why: "nothing has opened the negotiation"
    And the message says what is allowed: "AgreedInPrinciple, VisitCancelled, WorkingLevelTalksOpened"
    And nothing was recorded

    Examples:
      | event              |
      | TermsDisputed      |
      | DisputeResolved    |
      | TalksSuspended     |
      | AgreementFinalised |
      | TermsAmended       |

  Scenario Outline: The deal follows the talks or the cancelled visit that opened the negotiation
    Given a negotiation "us-korea-2025" between "US" and "KR" opened by <opening>
    When the deal between "US" and "KR" is announced
    Then "AgreedInPrinciple" was recorded as version 2
    And the negotiation is "agreed_in_principle"
    And a deal in principle has been announced

    Examples:
      | opening                  |
      | working-level talks      |
      | a visit being called off |

  Scenario Outline: A deal announced while a point is in dispute leaves the point open
    Given a negotiation "us-vietnam-2025" between "US" and "VN" opened by working-level talks
    And the point "transshipment" is disputed
    And it is in state "<state>"
    When the deal between "US" and "VN" is announced
    Then "AgreedInPrinciple" was recorded as version <version>
    And the negotiation is "disputed_terms"
    And the open points are "transshipment"
    And a deal in principle has been announced

    Examples:
      | state               | version |
      | disputed_terms      | 3       |
      | visit_cancelled     | 4       |
      | working_level_talks | 4       |
      | talks_suspended     | 4       |

  Scenario: The deal is struck between the parties who opened the negotiation
    Given a negotiation "us-korea-2025" between "US" and "KR" opened by working-level talks
    When the deal between "US" and "JP" is announced
    Then the event is refused as invalid: "US, JP are not the parties to 'us-korea-2025' (US, KR)"
    And nothing was recorded

  Scenario Outline: A later deal revises the one before, whatever has happened since
    Given a negotiation "us-china-2025" between "US" and "CN" agreed in principle
    And it is in state "<state>"
    When the deal between "US" and "CN" is announced
    Then "AgreedInPrinciple" was recorded as version <version>
    And the negotiation is "agreed_in_principle"
    And the negotiation has had 2 deals in principle

    Examples:
      | state               | version |
      | agreed_in_principle | 2       |
      | visit_cancelled     | 3       |
      | working_level_talks | 3       |
      | talks_suspended     | 3       |
      | finalised           | 3       |

  Scenario: A truce, then a framework, then a further deal
    Given the negotiation "us-china-2025" opened with working-level talks between "US" and "CN" on 10 May 2025
    When the deal "Geneva truce" is announced on 12 May 2025
    And the deal "London framework" is announced on 10 June 2025
    And the deal "Busan deal" is announced on 30 October 2025
    Then "AgreedInPrinciple" was recorded as version 4
    And the negotiation is "agreed_in_principle"
    And its deals read:
      | date            | kind         | title            |
      | 12 May 2025     | in principle | Geneva truce     |
      | 10 June 2025    | in principle | London framework |
      | 30 October 2025 | in principle | Busan deal       |

  Scenario: A deal needs two different parties
    Given no negotiation "india-japan-2025" has been recorded yet
    When the deal between "IN" and "IN" is announced
    Then the event is refused as invalid: "parties must be two distinct parties"
    And nothing was recorded

  Scenario: Parties are named by their two-letter country codes
    Given no negotiation "us-japan-2025" has been recorded yet
    When the deal between "US" and "XX" is announced
    Then the event is refused as invalid: "'XX' is not an ISO 3166-1 alpha-2 country code or EU"
    And nothing was recorded

  Scenario: The European Union is a party
    Given no negotiation "us-eu-2025" has been recorded yet
    When the deal between "US" and "EU" is announced
    Then "AgreedInPrinciple" was recorded as version 1
    And the parties are "US" and "EU"
