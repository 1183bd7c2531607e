Feature: Finalisation
  A deal is final when it is enacted or signed in one or more instruments: an
  executive order, a memorandum of understanding. It can be finalised straight
  from agreed in principle; from working-level talks, or after a called-off
  visit, once a deal in principle was announced and no point is open (the
  visit that was meant to seal it need not happen: the instruments can be
  signed without it). It is not finalised while its terms are disputed, nor
  while talks are broken off (see "Talks suspended"). Finalised means enacted
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
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, DisputeResolved, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended"
    And nothing was recorded

  Scenario: Talks held before any deal cannot end in a signed agreement
    Given a negotiation "us-korea-2025" between "US" and "KR" opened by working-level talks
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "working_level_talks"
    And the message says why: "no deal in principle has been announced"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended"
    And nothing was recorded

  Scenario: A deal is signed after the visit meant to seal it was called off
    Given the point "tariff stacking" is disputed
    And the visit by "Ryosei Akazawa" is cancelled
    And the point "tariff stacking" is resolved
    When the agreement is finalised in these instruments:
      | instrument                                    |
      | US executive order implementing the agreement |
    Then "AgreementFinalised" was recorded as version 5
    And the negotiation is "finalised"

  Scenario: After a called-off visit, a deal cannot be signed while a point is open
    Given the point "tariff stacking" is disputed
    And the visit by "Ryosei Akazawa" is cancelled
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "visit_cancelled"
    And the message says why: "disputed points are still open"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, DisputeResolved, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended"
    And nothing was recorded

  Scenario: A visit called off before any deal cannot end in a signed agreement
    Given a negotiation "us-korea-2025" between "US" and "KR" opened by a visit being called off
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "visit_cancelled"
    And the message says why: "no deal in principle has been announced"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended"
    And nothing was recorded

  Scenario: A deal cannot be signed while its terms are disputed
    Given it is in state "disputed_terms"
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "disputed_terms"
    And the message says why: "disputed points are still open"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, DisputeResolved, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended"
    And nothing was recorded

  Scenario: A finalised agreement cannot be finalised again while it stands
    Given it is in state "finalised"
    When "AgreementFinalised" is recorded
    Then the event is refused as not allowed in state "finalised"
    And the message says why: "the agreement is already finalised; record new instruments as TermsAmended"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended"
    And nothing was recorded
