Feature: Concurrent writers and retried writes
  Several analysts and news feeds record into the same ledger. A writer can
  say which version of the negotiation its event is based on: if someone else
  recorded in between, the event is refused rather than applied to a state the
  writer never saw. A writer can also give each event an id of its own, so a
  write retried after a time-out is not recorded twice, and an id cannot be
  reused for a different event. An event recorded without an id is given one
  by the ledger, made from the moment it was recorded, so the ids of later
  events sort after those of earlier ones.

  Background:
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle

  Scenario: A writer who read the latest version records its event
    When a writer who read version 1 records "TermsDisputed"
    Then "TermsDisputed" was recorded as version 2
    And the negotiation is "disputed_terms"

  Scenario: Of two writers who read the same version, the second is refused
    When a writer who read version 1 records "TermsDisputed"
    And another writer who also read version 1 records "VisitCancelled"
    Then the event is refused because the negotiation is at version 2, not 1
    And nothing was recorded
    And the negotiation is "disputed_terms"
    And the negotiation has 2 events

  Scenario: A negotiation someone else has opened cannot be opened as new
    When a writer who read version 0 records "AgreedInPrinciple"
    Then the event is refused because the negotiation is at version 1, not 0
    And nothing was recorded

  Scenario: Events recorded without an id are given ids in the order they were recorded
    When "TermsDisputed" is recorded for the point "tariff stacking"
    And "VisitCancelled" is recorded
    Then every event was given an id of its own, each sorting after the one recorded before it

  Scenario: A retried write is answered with the stored event, not recorded twice
    When "TermsDisputed" is recorded for the point "tariff stacking" with the event id "3f0e2a52-8c1d-4b6e-9a57-0d2c6f4b1e90"
    And "TermsDisputed" is recorded for the point "tariff stacking" with the event id "3f0e2a52-8c1d-4b6e-9a57-0d2c6f4b1e90" again
    Then the answer is the event already stored as version 2
    And the negotiation has 2 events

  Scenario: A retry is answered from the log even after the negotiation moved on
    When "TermsDisputed" is recorded for the point "tariff stacking" with the event id "3f0e2a52-8c1d-4b6e-9a57-0d2c6f4b1e90"
    And "VisitCancelled" is recorded
    And "TermsDisputed" is recorded for the point "tariff stacking" with the event id "3f0e2a52-8c1d-4b6e-9a57-0d2c6f4b1e90" again
    Then the answer is the event already stored as version 2
    And the negotiation has 3 events
    And the negotiation is "visit_cancelled"

  Scenario: An event id cannot be reused for a different event
    When "TermsDisputed" is recorded for the point "tariff stacking" with the event id "3f0e2a52-8c1d-4b6e-9a57-0d2c6f4b1e90"
    And "TermsDisputed" is recorded for the point "profit sharing" with the event id "3f0e2a52-8c1d-4b6e-9a57-0d2c6f4b1e90"
    Then the event is refused as a different event under an id already recorded
    And nothing was recorded
    And the open points are "tariff stacking"
