Feature: Retractions and corrections
  Reports are sometimes wrong: a signing announced by the press had not
  happened, a dispute was reported over the wrong point, a cancelled visit
  was given the wrong day. Nothing in the log is ever changed or deleted.
  Instead an analyst records a retraction, which takes a wrongly reported
  event out of the story, or a correction, which replaces what the event
  says, the day it happened, or both. A second correction of the same event
  applies on top of the first.

  Retractions and corrections are entries of the log like any event: they
  get the next version, give their reason and sources, and are kept forever.
  The log marks each event that was later retracted or corrected, so anyone
  can see what was reported at the time and what replaced it.

  Like a late event, a retraction or correction is accepted only if the
  story after it still makes sense, and is otherwise refused, naming the
  event of the story it would break, with nothing recorded. Only an event
  can be retracted or corrected (not a retraction, a correction or a
  denial), an event already retracted is out of the story for good, the
  last event left in a story cannot be retracted, a correction must say what
  changes, and what it says must be valid for the event it corrects. (A
  report a party denies stays in the story, marked as denied: see "Denied
  reports".)

  Scenario: A signing that did not happen is retracted, and the negotiation is open again
    Given the negotiation "us-korea-2025" opened with the deal between "US" and "KR" on 30 July 2025
    And the agreement was finalised on 29 October 2025 in "memorandum of understanding signed at Gyeongju"
    When version 2 is retracted, because "no document was signed at Gyeongju; the leaders settled the terms"
    Then "EventRetracted" was recorded as version 3
    And the negotiation is "agreed_in_principle"
    And the story reads:
      | date         | event             |
      | 30 July 2025 | AgreedInPrinciple |

  Scenario: The agreement is finalised when it really is signed
    Given the negotiation "us-korea-2025" opened with the deal between "US" and "KR" on 30 July 2025
    And the agreement was finalised on 29 October 2025 in "memorandum of understanding signed at Gyeongju"
    And version 2 was retracted on 3 November 2025, because "no document was signed at Gyeongju"
    When the agreement is finalised on 14 November 2025 in "joint fact sheet on the trade and security agreements"
    Then "AgreementFinalised" was recorded as version 4
    And the negotiation is "finalised"
    And the agreement stands in these instruments:
      | instrument                                            |
      | joint fact sheet on the trade and security agreements |

  Scenario: The log keeps the retracted event and says what retracted it
    Given the negotiation "us-korea-2025" opened with the deal between "US" and "KR" on 30 July 2025
    And the agreement was finalised on 29 October 2025 in "memorandum of understanding signed at Gyeongju"
    And version 2 was retracted on 3 November 2025, because "no document was signed at Gyeongju"
    When the negotiation is replayed up to version 2
    Then it stood in state "finalised" with open points: none
    And nothing was recorded
    And the log reads:
      | version | event              | date            | reported        | retracted by |
      | 1       | AgreedInPrinciple  | 30 July 2025    | 30 July 2025    |              |
      | 2       | AgreementFinalised | 29 October 2025 | 29 October 2025 | 3            |
      | 3       | EventRetracted     |                 | 3 November 2025 |              |

  Scenario: A newsroom's table tells the story as corrected; its news feed keeps every entry of the log
    Given the negotiation "us-korea-2025" opened with the deal between "US" and "KR" on 30 July 2025
    And the point "investment structure" was disputed on 20 August 2025
    And the point "investment structure" was resolved on 29 October 2025
    And the agreement was finalised on 29 October 2025 in "memorandum of understanding signed at Gyeongju"
    And version 4 was retracted on 3 November 2025, because "no document was signed at Gyeongju"
    And version 2 was corrected to have happened on 18 August 2025, because "the ministry objected on 18 August"
    Then the story's table for a spreadsheet reads:
      | version | event             | occurred   | reported   | state after         | open points after    |
      | 1       | AgreedInPrinciple | 2025-07-30 | 2025-07-30 | agreed_in_principle | none                 |
      | 2       | TermsDisputed     | 2025-08-18 | 2025-08-20 | disputed_terms      | investment structure |
      | 3       | DisputeResolved   | 2025-10-29 | 2025-10-29 | agreed_in_principle | none                 |
    And the news feed reads, newest first:
      | version | entry              | what it changed                                                 |
      | 6       | EventCorrected     | still agreed in principle                                       |
      | 5       | EventRetracted     | finalised → agreed in principle                                 |
      | 4       | AgreementFinalised | agreed in principle → finalised                                 |
      | 3       | DisputeResolved    | terms disputed → agreed in principle                            |
      | 2       | TermsDisputed      | agreed in principle → terms disputed (open: investment structure) |
      | 1       | AgreedInPrinciple  | not opened → agreed in principle                                |

  Scenario: A retraction that would break the story is refused
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "tariff stacking" was disputed on 5 August 2025
    And the point "tariff stacking" was resolved on 4 September 2025
    And the agreement was finalised on 4 September 2025 in "US executive order implementing the US–Japan agreement"
    When version 3 is retracted, because "the stacking was not settled before the order"
    Then it is refused because the story would then have the "AgreementFinalised" of 4 September 2025 (version 4) in state "disputed_terms"
    And the message reads: "EventRetracted of version 3 would make the story of negotiation 'us-japan-2025' illegal: version 4, AgreementFinalised of 2025-09-04 would then come in state disputed_terms, where it is refused (disputed points are still open); nothing was written"
    And nothing was recorded
    And the negotiation is "finalised"

  Scenario: A negotiation is never left with nothing in its story
    Given the negotiation "us-eu-2025" opened with the deal between "US" and "EU" on 27 July 2025
    When version 1 is retracted, because "the Turnberry meeting ended without a deal"
    Then it is refused: "EventRetracted of version 1 would leave negotiation 'us-eu-2025' with no events in its story"
    And nothing was recorded
    And the negotiation is "agreed_in_principle"

  Scenario: What an event says is corrected
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "reciprocal tariff rate" was disputed on 5 August 2025
    When version 2 is corrected to the point "tariff stacking", because "Japan disputed the stacking of tariffs, not the 15% rate"
    Then "EventCorrected" was recorded as version 3
    And the negotiation is "disputed_terms"
    And the open points are "tariff stacking"
    And the story reads:
      | date          | event             | version | corrected by |
      | 22 July 2025  | AgreedInPrinciple | 1       |              |
      | 5 August 2025 | TermsDisputed     | 2       | 3            |

  Scenario: The day an event happened is corrected, and it moves in the story
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "tariff stacking" was disputed on 5 August 2025
    And the visit by "Ryosei Akazawa" was called off on 29 August 2025
    When version 3 is corrected to have happened on 28 August 2025, because "the trip was called off hours before departure on 28 August"
    Then "EventCorrected" was recorded as version 4
    And the negotiation is "visit_cancelled"
    And as of 28 August 2025 the negotiation was "visit_cancelled"
    And the story reads:
      | date           | event             | version | corrected by |
      | 22 July 2025   | AgreedInPrinciple | 1       |              |
      | 5 August 2025  | TermsDisputed     | 2       |              |
      | 28 August 2025 | VisitCancelled    | 3       | 4            |

  Scenario: A second correction applies on top of the first
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "reciprocal tariff rate" was disputed on 6 August 2025
    When version 2 is corrected to the point "tariff stacking", because "Japan disputed the stacking of tariffs, not the rate"
    And version 2 is corrected to have happened on 5 August 2025, because "Tokyo raised it the day the order took effect"
    Then "EventCorrected" was recorded as version 4
    And the open points are "tariff stacking"
    And the story reads:
      | date          | event             | version | corrected by |
      | 22 July 2025  | AgreedInPrinciple | 1       |              |
      | 5 August 2025 | TermsDisputed     | 2       | 3, 4         |
    And the log reads:
      | version | event             | date          | corrected by |
      | 1       | AgreedInPrinciple | 22 July 2025  |              |
      | 2       | TermsDisputed     | 6 August 2025 | 3, 4         |
      | 3       | EventCorrected    |               |              |
      | 4       | EventCorrected    |               |              |

  Scenario: A correction that would break the story is refused
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "tariff stacking" was disputed on 5 August 2025
    And the point "tariff stacking" was resolved on 4 September 2025
    And the agreement was finalised on 4 September 2025 in "US executive order implementing the US–Japan agreement"
    When version 3 is corrected to have happened on 16 September 2025, because "the stacking ended when the order took effect"
    Then it is refused because the story would then have the "AgreementFinalised" of 4 September 2025 (version 4) in state "disputed_terms"
    And the message says why: "disputed points are still open"
    And nothing was recorded

  Scenario: A correction naming a point that is not open is refused
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the point "tariff stacking" was disputed on 5 August 2025
    And the point "tariff stacking" was resolved on 4 September 2025
    When version 3 is corrected to the point "profit sharing", because "the settlement was on the returns"
    Then it is refused because the story would then have the "DisputeResolved" of 4 September 2025 (version 3) in state "disputed_terms"
    And the message says why: "'profit sharing' is not an open point; open: tariff stacking"
    And nothing was recorded

  Scenario Outline: A retraction or a correction is not itself retracted or corrected
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the terms were amended on 31 July 2025:
      | term              | value |
      | reciprocal tariff | 15%   |
    And the terms were amended on 4 September 2025:
      | term        | value |
      | auto tariff | 15%   |
    And version 3 was <changed>, because "the order of 4 September was reported wrongly"
    When <change of version 4>, because "the first report was right after all"
    Then it is refused: "version 4 is an <entry>, not an event; only events can be retracted, corrected or denied"
    And nothing was recorded

    Examples:
      | changed                                         | change of version 4                                         | entry          |
      | retracted                                       | version 4 is retracted                                      | EventRetracted |
      | retracted                                       | version 4 is corrected to have happened on 5 September 2025 | EventRetracted |
      | corrected to have happened on 16 September 2025 | version 4 is retracted                                      | EventCorrected |

  Scenario Outline: An event already retracted cannot be retracted or corrected again
    Given the negotiation "us-korea-2025" opened with the deal between "US" and "KR" on 30 July 2025
    And the agreement was finalised on 29 October 2025 in "memorandum of understanding signed at Gyeongju"
    And version 2 was retracted on 3 November 2025, because "no document was signed at Gyeongju"
    When <change>, because "the signing was misreported"
    Then it is refused: "version 2 (AgreementFinalised) was already retracted by version 3"
    And nothing was recorded

    Examples:
      | change                                                      |
      | version 2 is retracted                                      |
      | version 2 is corrected to have happened on 14 November 2025 |

  Scenario: Only a version the negotiation has can be retracted
    Given the negotiation "us-korea-2025" opened with the deal between "US" and "KR" on 30 July 2025
    And the agreement was finalised on 14 November 2025 in "joint fact sheet on the trade and security agreements"
    When version 9 is retracted, because "the fact sheet was withdrawn"
    Then it is refused: "negotiation 'us-korea-2025' has no version 9 (it has versions 1 to 2)"
    And nothing was recorded

  Scenario: A correction says what changes
    Given the negotiation "us-korea-2025" opened with the deal between "US" and "KR" on 30 July 2025
    When a correction of version 1 that changes nothing is recorded, because "the deal was misreported"
    Then it is refused: "a correction needs new data"
    And nothing was recorded

  Scenario: What a correction says must be valid for the event it corrects
    Given the negotiation "us-korea-2025" opened with the deal between "US" and "KR" on 30 July 2025
    When version 1 is corrected to the deal between "US" and "XX", because "the second party was misreported"
    Then it is refused: "'XX' is not an ISO 3166-1 alpha-2 country code or EU"
    And nothing was recorded

  Scenario Outline: A mistaken amendment is retracted, whatever has happened since
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the terms were amended on 31 July 2025:
      | term        | value |
      | auto tariff | 15%   |
    And it is in state "<state>"
    When version 2 is retracted, because "the auto tariff cut came only with the order of 4 September"
    Then "EventRetracted" was recorded as version <version>
    And the negotiation is "<state>"
    And the terms do not include "auto tariff"

    Examples:
      | state               | version |
      | agreed_in_principle | 3       |
      | disputed_terms      | 4       |
      | visit_cancelled     | 4       |
      | working_level_talks | 4       |
      | talks_suspended     | 4       |
      | finalised           | 4       |

  Scenario Outline: The deal cannot be retracted while what followed it stands
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the terms were amended on 31 July 2025:
      | term              | value |
      | reciprocal tariff | 15%   |
    And it is in state "<state>"
    When version 1 is retracted, because "no deal had been struck"
    Then it is refused because the story would then have the "TermsAmended" of 31 July 2025 (version 2) in state "not_opened"
    And the message says why: "nothing has opened the negotiation"
    And nothing was recorded
    And the negotiation is "<state>"

    Examples:
      | state               |
      | agreed_in_principle |
      | disputed_terms      |
      | visit_cancelled     |
      | working_level_talks |
      | talks_suspended     |
      | finalised           |

  Scenario Outline: An amendment's terms are corrected, whatever has happened since
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the terms were amended on 31 July 2025:
      | term        | value |
      | auto tariff | 15%   |
    And it is in state "<state>"
    When version 2 is corrected to these terms, because "the order of 31 July set the reciprocal tariff, not the auto tariff":
      | term              | value |
      | reciprocal tariff | 15%   |
    Then "EventCorrected" was recorded as version <version>
    And the negotiation is "<state>"
    And the recorded terms include:
      | term              | value |
      | reciprocal tariff | 15%   |
    And the terms do not include "auto tariff"

    Examples:
      | state               | version |
      | agreed_in_principle | 3       |
      | disputed_terms      | 4       |
      | visit_cancelled     | 4       |
      | working_level_talks | 4       |
      | talks_suspended     | 4       |
      | finalised           | 4       |

  Scenario Outline: An amendment cannot be dated before the deal it amends
    Given the negotiation "us-japan-2025" opened with the deal between "US" and "JP" on 22 July 2025
    And the terms were amended on 31 July 2025:
      | term              | value |
      | reciprocal tariff | 15%   |
    And it is in state "<state>"
    When version 2 is corrected to have happened on 7 July 2025, because "the rate was first announced in the letter of 7 July"
    Then it is refused because the story would then have the "TermsAmended" of 7 July 2025 (version 2) in state "not_opened"
    And the message says why: "nothing has opened the negotiation"
    And nothing was recorded
    And the negotiation is "<state>"

    Examples:
      | state               |
      | agreed_in_principle |
      | disputed_terms      |
      | visit_cancelled     |
      | working_level_talks |
      | talks_suspended     |
      | finalised           |
