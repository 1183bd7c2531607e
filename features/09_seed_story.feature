Feature: The US–Japan deal of 2025, as it happened
  The project's seed story, told by the events of the seed file for
  "us-japan-2025" as public reporting gave them: the deal announced on
  22 July 2025, the disputes over tariff stacking and profit sharing, the
  visit called off on 28 August, the working-level talks, and the executive
  order and memorandums of understanding of 4 September. Recorded one event
  at a time, the negotiation moves as the reporting did.

  Scenario: Recording the story event by event
    Given the seed story "us-japan-2025"
    When its next event, "AgreedInPrinciple" of 22 July 2025, is recorded
    Then the negotiation is "agreed_in_principle"
    When its next event, "TermsAmended" of 31 July 2025, is recorded
    Then the negotiation is "agreed_in_principle"
    When its next event, "TermsDisputed" of 5 August 2025, is recorded
    Then the negotiation is "disputed_terms"
    And the open points are "tariff stacking"
    When its next event, "TermsAmended" of 7 August 2025, is recorded
    Then the negotiation is "disputed_terms"
    When its next event, "TermsDisputed" of 28 August 2025, is recorded
    Then the negotiation is "disputed_terms"
    And the open points are "tariff stacking, profit sharing"
    When its next event, "VisitCancelled" of 28 August 2025, is recorded
    Then the negotiation is "visit_cancelled"
    When its next event, "WorkingLevelTalksOpened" of 28 August 2025, is recorded
    Then the negotiation is "working_level_talks"
    When its next event, "TermsAmended" of 4 September 2025, is recorded
    Then the negotiation is "working_level_talks"
    When its next event, "DisputeResolved" of 4 September 2025, is recorded
    Then the negotiation is "working_level_talks"
    And the open points are "profit sharing"
    When its next event, "DisputeResolved" of 4 September 2025, is recorded
    Then the negotiation is "working_level_talks"
    And no point is open
    When its next event, "AgreementFinalised" of 4 September 2025, is recorded
    Then the negotiation is "finalised"
    And every event of the story has been recorded

  Scenario: The story read back, as it stood after each event
    Given the seed story "us-japan-2025" has been recorded in full
    Then its history reads:
      | version | date              | event                   | state after         | open points after               |
      | 1       | 22 July 2025      | AgreedInPrinciple       | agreed_in_principle | none                            |
      | 2       | 31 July 2025      | TermsAmended            | agreed_in_principle | none                            |
      | 3       | 5 August 2025     | TermsDisputed           | disputed_terms      | tariff stacking                 |
      | 4       | 7 August 2025     | TermsAmended            | disputed_terms      | tariff stacking                 |
      | 5       | 28 August 2025    | TermsDisputed           | disputed_terms      | tariff stacking, profit sharing |
      | 6       | 28 August 2025    | VisitCancelled          | visit_cancelled     | tariff stacking, profit sharing |
      | 7       | 28 August 2025    | WorkingLevelTalksOpened | working_level_talks | tariff stacking, profit sharing |
      | 8       | 4 September 2025  | TermsAmended            | working_level_talks | tariff stacking, profit sharing |
      | 9       | 4 September 2025  | DisputeResolved         | working_level_talks | profit sharing                  |
      | 10      | 4 September 2025  | DisputeResolved         | working_level_talks | none                            |
      | 11      | 4 September 2025  | AgreementFinalised      | finalised           | none                            |
    And the agreement stands in these instruments:
      | instrument                                                                          |
      | US executive order implementing the US–Japan agreement, signed by President Trump |
      | memorandums of understanding signed by Howard Lutnick and Ryosei Akazawa            |
