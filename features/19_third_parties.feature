Feature: Third parties
  A negotiation between two governments is acted on by others: courts rule
  on the tariffs, parliaments vote, third countries and firms act. The US
  Court of International Trade held on 28 May 2025 that the emergency-powers
  law did not authorise the "reciprocal" tariffs; the US Supreme Court later
  struck them down. The US Senate voted on 29 October 2025 to end the national
  emergency behind the tariffs on Canada. Such an act is recorded beside the
  phase with the actor, what it did, the kind of actor (a court, a
  legislature, a government, a company, an international body, or other)
  and, for an actor that belongs to one of the parties, which one. It never
  moves the phase.

  When a court strikes a tariff down, the tariff is lifted by the court: a
  measure can be lifted by a named outside actor, not only by a party. A
  party code names a party, though: a measure lifted "by" a country code
  must be lifted by one of the two.

  Scenario: A court strikes a tariff down
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    And on 1 August 2025 "US" imposed "tariff on goods outside the USMCA" at "35%"
    When on 20 February 2026 "US Supreme Court" acts:
      | action | holds that the emergency-powers law does not authorise the tariffs |
      | kind   | court                                                              |
      | of     | US                                                                 |
    And on 20 February 2026 "tariff on goods outside the USMCA" is lifted by "US Supreme Court", because "struck down"
    Then "MeasureLifted" was recorded as version 4
    And the negotiation is "working_level_talks"
    And as of 20 February 2026 the measure "tariff on goods outside the USMCA" reads:
      | status    | lifted           |
      | lifted by | US Supreme Court |
      | reason    | struck down      |
    And the third-party acts read:
      | date             | actor            | kind  | of |
      | 20 February 2026 | US Supreme Court | court | US |

  Scenario: A parliament votes
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    When on 29 October 2025 "US Senate" acts:
      | action | votes to end the national emergency behind the tariffs on Canada |
      | kind   | legislature                                                      |
      | of     | US                                                               |
    Then "ThirdPartyActed" was recorded as version 2
    And the negotiation is "working_level_talks"
    And the third-party acts read:
      | date            | actor     | kind        | of | action                                                           |
      | 29 October 2025 | US Senate | legislature | US | votes to end the national emergency behind the tariffs on Canada |

  Scenario Outline: A third party's act never moves the phase
    Given a negotiation "us-korea-2025" between "US" and "KR" agreed in principle
    And it is in state "<state>"
    When "Hyundai Motor" acts:
      | action | announces a US$26 billion investment in the United States |
      | kind   | company                                                   |
    Then "ThirdPartyActed" was recorded as version <version>
    And the negotiation is "<state>"

    Examples:
      | state               | version |
      | agreed_in_principle | 2       |
      | disputed_terms      | 3       |
      | visit_cancelled     | 3       |
      | working_level_talks | 3       |
      | talks_suspended     | 3       |
      | finalised           | 3       |

  Scenario: An actor is of a known kind
    Given a negotiation "us-korea-2025" between "US" and "KR" agreed in principle
    When "National Assembly" acts:
      | action | takes up the special act on the US investment fund |
      | kind   | parliament                                         |
    Then the event is refused as invalid: "kind: Input should be 'court', 'legislature', 'government', 'company', 'international body' or 'other'"
    And nothing was recorded

  Scenario: A measure lifted by a country is lifted by one of the parties
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    And on 1 August 2025 "US" imposed "tariff on goods outside the USMCA" at "35%"
    When on 2 August 2025 "tariff on goods outside the USMCA" is lifted by "MX", because "a trilateral deal"
    Then the event is refused as invalid: "by: MX is not a party to 'us-canada-2025' (US, CA)"
    And nothing was recorded

  Scenario: A third country acts in its own name; an actor "of" a party belongs to one of the two
    Given the negotiation "us-canada-2025" opened with working-level talks between "US" and "CA" on 6 May 2025
    When on 10 December 2025 "Mexican Senate" acts:
      | action | passes tariffs of up to 50% on imports from countries without a trade deal |
      | kind   | legislature                                                                 |
      | of     | MX                                                                          |
    Then the event is refused as invalid: "of: MX is not a party to 'us-canada-2025' (US, CA)"
    And nothing was recorded

