Feature: The US–Japan deal of 2025, as it happened
  The project's seed story, told by the events of the seed file for
  "us-japan-2025" as public reporting gave them: the 25% tariff threatened
  on 7 July, the deal announced on 22 July 2025, Akazawa's visit to Washington,
  the disputes over tariff stacking and profit sharing, the 15% tariff in force
  from 7 August, the visit called off on 28 August, the working-level talks,
  and the executive order and memorandums of understanding of 4 September,
  with the tariffs it set. Recorded one event at a time, the negotiation moves
  as the reporting did; the threat, the meeting and the tariffs go on beside
  the phase and never move it.

  Scenario: Recording the story event by event
    Given the seed story "us-japan-2025"
    When its next event, "MeasureThreatened" of 7 July 2025, is recorded
    Then the negotiation is "not_opened"
    When its next event, "AgreedInPrinciple" of 22 July 2025, is recorded
    Then the negotiation is "agreed_in_principle"
    When its next event, "TermsAmended" of 31 July 2025, is recorded
    Then the negotiation is "agreed_in_principle"
    When its next event, "MeetingHeld" of 5 August 2025, is recorded
    Then the negotiation is "agreed_in_principle"
    When its next event, "TermsDisputed" of 5 August 2025, is recorded
    Then the negotiation is "disputed_terms"
    And the open points are "tariff stacking"
    When its next event, "MeasureImposed" of 7 August 2025, is recorded
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
    When its next event, "MeasureImposed" of 4 September 2025, is recorded
    Then the negotiation is "finalised"
    When its next event, "MeasureImposed" of 4 September 2025, is recorded
    Then the negotiation is "finalised"
    And every event of the story has been recorded

  Scenario: The story read back, as it stood after each event
    Given the seed story "us-japan-2025" has been recorded in full
    Then its history reads:
      | version | date              | event                   | state after         | open points after               |
      | 1       | 7 July 2025       | MeasureThreatened       | not_opened          | none                            |
      | 2       | 22 July 2025      | AgreedInPrinciple       | agreed_in_principle | none                            |
      | 3       | 31 July 2025      | TermsAmended            | agreed_in_principle | none                            |
      | 4       | 5 August 2025     | MeetingHeld             | agreed_in_principle | none                            |
      | 5       | 5 August 2025     | TermsDisputed           | disputed_terms      | tariff stacking                 |
      | 6       | 7 August 2025     | MeasureImposed          | disputed_terms      | tariff stacking                 |
      | 7       | 28 August 2025    | TermsDisputed           | disputed_terms      | tariff stacking, profit sharing |
      | 8       | 28 August 2025    | VisitCancelled          | visit_cancelled     | tariff stacking, profit sharing |
      | 9       | 28 August 2025    | WorkingLevelTalksOpened | working_level_talks | tariff stacking, profit sharing |
      | 10      | 4 September 2025  | TermsAmended            | working_level_talks | tariff stacking, profit sharing |
      | 11      | 4 September 2025  | DisputeResolved         | working_level_talks | profit sharing                  |
      | 12      | 4 September 2025  | DisputeResolved         | working_level_talks | none                            |
      | 13      | 4 September 2025  | AgreementFinalised      | finalised           | none                            |
      | 14      | 4 September 2025  | MeasureImposed          | finalised           | none                            |
      | 15      | 4 September 2025  | MeasureImposed          | finalised           | none                            |
    And the agreement stands in these instruments:
      | instrument                                                                          |
      | US executive order implementing the US–Japan agreement, signed by President Trump |
      | memorandums of understanding signed by Howard Lutnick and Ryosei Akazawa            |
