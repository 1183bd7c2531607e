Feature: Disputes and their resolution
  A point of the deal is disputed when the parties openly contest it, and it
  stays open until it is resolved. Only an open point can be resolved. A party
  that restates or hardens its stance on a point already open ("accept the
  deal or pay the tariffs") is recorded too: the positions are updated and the
  point stays open. When the last open point of a negotiation in disputed
  terms is resolved, the negotiation is back to agreed in principle if a deal
  was announced, and back to working-level talks if not; during a cancelled
  visit, working-level talks or talks broken off, resolving a point keeps the
  state.

  Background:
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle

  Scenario Outline: Disputing a point puts the negotiation in disputed terms
    Given it is in state "<state>"
    When "TermsDisputed" is recorded for the point "profit sharing"
    Then "TermsDisputed" was recorded as version <version>
    And the negotiation is "disputed_terms"
    And the open points are "profit sharing"

    Examples:
      | state               | version |
      | agreed_in_principle | 2       |
      | visit_cancelled     | 3       |
      | working_level_talks | 3       |

  Scenario: Another point can be disputed while one is open
    Given the point "tariff stacking" is disputed
    When "TermsDisputed" is recorded for the point "profit sharing"
    Then "TermsDisputed" was recorded as version 3
    And the negotiation is "disputed_terms"
    And the open points are "tariff stacking, profit sharing"

  Scenario: A party restates its stance on a point already open
    Given the point "profit sharing" is disputed with these positions:
      | party | position                              |
      | US    | the US keeps up to 90% of the returns |
      | JP    | the returns must benefit both sides   |
    When the point "profit sharing" is disputed with these positions:
      | party | position                                    |
      | US    | accept the deal as it stands or pay tariffs |
    Then "TermsDisputed" was recorded as version 3
    And the negotiation is "disputed_terms"
    And the open points are "profit sharing"
    And the positions on "profit sharing" are:
      | party | position                                    |
      | US    | accept the deal as it stands or pay tariffs |
      | JP    | the returns must benefit both sides         |

  Scenario: The positions of the parties are recorded with the disputed point
    When the point "profit sharing" is disputed with these positions:
      | party | position                              |
      | US    | the US keeps up to 90% of the returns |
      | JP    | the returns must benefit both sides   |
    Then "TermsDisputed" was recorded as version 2
    And the recorded positions are:
      | party | position                              |
      | US    | the US keeps up to 90% of the returns |
      | JP    | the returns must benefit both sides   |

  Scenario: Only the parties to the negotiation take positions
    When the point "profit sharing" is disputed with these positions:
      | party | position                     |
      | IN    | the returns should be shared |
    Then the event is refused as invalid: "IN not a party to 'us-japan-2025' (US, JP)"
    And nothing was recorded

  Scenario: Resolving the last open point brings the negotiation back to agreed in principle
    Given the point "tariff stacking" is disputed
    When "DisputeResolved" is recorded for the point "tariff stacking"
    Then "DisputeResolved" was recorded as version 3
    And the negotiation is "agreed_in_principle"
    And no point is open

  Scenario: Without a deal, resolving the last open point takes the negotiation back to the talks
    Given a negotiation "us-korea-2025" between "US" and "KR" opened by working-level talks
    And the point "currency swap" is disputed
    When "DisputeResolved" is recorded for the point "currency swap"
    Then "DisputeResolved" was recorded as version 3
    And the negotiation is "working_level_talks"
    And no point is open
    And no deal in principle has been announced yet

  Scenario: Resolving one of several open points keeps the terms disputed
    Given the point "tariff stacking" is disputed
    And the point "profit sharing" is disputed
    When "DisputeResolved" is recorded for the point "tariff stacking"
    Then "DisputeResolved" was recorded as version 4
    And the negotiation is "disputed_terms"
    And the open points are "profit sharing"

  Scenario Outline: A point resolved while the visit is off, officials talk or talks are off keeps the state
    Given the point "tariff stacking" is disputed
    And it is in state "<state>"
    When "DisputeResolved" is recorded for the point "tariff stacking"
    Then "DisputeResolved" was recorded as version 4
    And the negotiation is "<state>"
    And no point is open

    Examples:
      | state               |
      | visit_cancelled     |
      | working_level_talks |
      | talks_suspended     |

  Scenario: Nothing can be resolved in a deal agreed in principle
    When "DisputeResolved" is recorded for the point "tariff stacking"
    Then the event is refused as not allowed in state "agreed_in_principle"
    And the message says why: "no disputed point is open"
    And the message says what is allowed: "AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, AgreementFinalised, TermsAmended"
    And nothing was recorded

  Scenario Outline: Nothing can be resolved while no point is open
    Given it is in state "<state>"
    When "DisputeResolved" is recorded for the point "tariff stacking"
    Then the event is refused as not allowed in state "<state>"
    And the message says why: "no disputed point is open"
    And the message says what is allowed: "<allowed instead>"
    And nothing was recorded

    Examples:
      | state               | allowed instead                                                                                                             |
      | visit_cancelled     | AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, AgreementFinalised, TermsAmended |
      | working_level_talks | AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, AgreementFinalised, TermsAmended |
      | talks_suspended     | AgreedInPrinciple, TermsDisputed, VisitCancelled, WorkingLevelTalksOpened, TalksSuspended, TermsAmended                     |

  Scenario Outline: Only an open point can be resolved
    Given the point "tariff stacking" is disputed
    And it is in state "<state>"
    When "DisputeResolved" is recorded for the point "profit sharing"
    Then the event is refused in state "<state>" because "'profit sharing' is not an open point; open: tariff stacking"
    And nothing was recorded

    Examples:
      | state               |
      | disputed_terms      |
      | visit_cancelled     |
      | working_level_talks |
      | talks_suspended     |
