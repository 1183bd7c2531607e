Feature: Finalisation
  A deal is final when it is enacted or signed in one or more instruments: an
  executive order, a memorandum of understanding. It can be finalised straight
  from agreed in principle, or from working-level talks once a deal in
  principle was announced and no point is open; not while its terms are
  disputed, and not straight after a cancelled visit. Finalised means enacted
  or signed, not frozen: see "Life after finalisation".

  Background:
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle

  Scenario: A deal agreed in principle is signed
    When the agreement is finalised in these instruments:
      | instrument                                            |
      | US executive order implementing the agreement         |
      | memorandum of understanding on the investment package |
    Then "AgreementFinalised" was recorded as version 2
    And the negotiation is "finalised"
    And the agreement stands in these instruments:
      | instrument                                            |
      | US executive order implementing the agreement         |
      | memorandum of understanding on the investment package |

  Scenario: Working-level talks end in a signed agreement once no point is open
    Given the point "tariff stacking" is disputed
    And working-level talks have opened
    And the point "tariff stacking" is resolved
    When the agreement is finalised in these instruments:
      | instrument                                    |
      | US executive order implementing the agreement |
    Then "AgreementFinalised" was recorded as version 5
    And the negotiation is "finalised"

  Scenario: Working-level talks cannot end in a signed agreement while a point is open
    Given the point "tariff stacking" is disputed
    And working-level talks have opened
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "working_level_talks"
    And the message says why: "disputed points are still open"
    And the message says what is allowed: "TermsDisputed, DisputeResolved, VisitCancelled, TermsAmended"
    And nothing was recorded

  Scenario: Talks held before any deal cannot end in a signed agreement
    Given a negotiation "us-korea-2025" between "US" and "KR" opened by working-level talks
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "working_level_talks"
    And the message says why: "no deal in principle has been announced"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, VisitCancelled, TermsAmended"
    And nothing was recorded

  Scenario Outline: A deal cannot be signed while its terms are disputed or straight after a cancelled visit
    Given it is in state "<state>"
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "<state>"
    And the message says what is allowed: "<allowed instead>"
    And nothing was recorded

    Examples:
      | state           | allowed instead                                                                      |
      | disputed_terms  | TermsDisputed, DisputeResolved, VisitCancelled, WorkingLevelTalksOpened, TermsAmended |
      | visit_cancelled | TermsDisputed, WorkingLevelTalksOpened, TermsAmended                                 |

  Scenario: A finalised agreement cannot be finalised again while it stands
    Given it is in state "finalised"
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "finalised"
    And the message says why: "the agreement is already finalised"
    And the message says what is allowed: "TermsDisputed, WorkingLevelTalksOpened, TermsAmended"
    And nothing was recorded
