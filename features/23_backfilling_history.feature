Feature: Back-filling history
  An analyst who starts following a negotiation in December records what
  happened in July from the archive. Each of those events was in the news the
  day it happened, so it is recorded as reported then ("back-filled"): asked
  "as known on 25 July", the ledger knows the deal of 22 July. An event
  recorded without its report time counts as reported the day it was
  recorded, and a question "as known" at any earlier day does not know it;
  when that was a slip, a correction gives the day it was in fact reported,
  and every question "as known" takes it. Nothing is reported before it
  happens: such a report time is refused. An archive loaded from a file
  without its report times is warned about once, however many transactions
  the load takes.

  Background:
    Given no negotiation "us-japan-2025" has been recorded yet

  Scenario: Events back-filled from the archive are known as of the days they happened
    When the deal between "US" and "JP" of 22 July 2025 is back-filled
    And "TermsDisputed" of 5 August 2025 is back-filled for the point "tariff stacking"
    Then as known on 25 July 2025 the negotiation was "agreed_in_principle"
    And as known on 6 August 2025 the negotiation was "disputed_terms"

  Scenario: A late report, and an event recorded without its report time, then corrected
    Given the deal between "US" and "JP" of 22 July 2025 was back-filled
    When the point "tariff stacking" is reported, on 20 August 2025, as disputed on 5 August 2025
    And "TermsAmended" of 7 August 2025 is recorded without a report time
    Then as known on 21 August 2025 the negotiation was "disputed_terms"
    And as known on 21 August 2025 the terms do not include "auto tariff"
    When version 3 is corrected to have been reported on 7 August 2025, because "it was in the news that day"
    Then "EventCorrected" was recorded as version 4
    And as known on 8 August 2025 the terms include "auto tariff"
    And as known on 8 August 2025 the negotiation was "agreed_in_principle"

  Scenario: A report dated before what it reports is refused
    Given the deal between "US" and "JP" of 22 July 2025 was back-filled
    When the point "tariff stacking" is reported, on 1 August 2025, as disputed on 5 August 2025
    Then it is refused: "reported_at: 2025-08-01 is before occurred_at 2025-08-05; nothing is reported before it happens"
    And nothing was recorded

  Scenario: A report time cannot be corrected to before the event
    Given the deal between "US" and "JP" of 22 July 2025 was back-filled
    When version 1 is corrected to have been reported on 1 July 2025, because "an earlier leak"
    Then it is refused: "EventCorrected of version 1: event_reported_at: 2025-07-01 is before occurred_at 2025-07-22"
    And nothing was recorded

  Scenario: An archive loaded without its report times is warned about once
    When a file of 2500 events of 2025, none with its report time, is loaded
    Then all 2500 events were recorded
    And one warning said "AgreedInPrinciple of 2025-01-01 and 2,499 more recorded as reported now"
    And the warning said "give each its reported_at, or backfill: true in its document"
