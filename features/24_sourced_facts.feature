Feature: Sourced facts
  A newsroom publishes what it can show. "Reuters" under a fact says who
  reported it, but no reader can go and check it. So a source may also be the
  article itself: the outlet, the page's address, its headline, the day it was
  published and, if it helps, the words quoted from it. The report links the
  headline to the page, so a reader is one click from the evidence.

  The outlet is still the source: an article of Reuters and a plain "Reuters"
  are counted together, and a story told without Reuters leaves out the facts
  that rest only on its articles. A plain name stays as good as it always was.

  An article is only any use if a reader can open it: its address must be a
  web page (http or https), never a script, and it must say when it appeared.
  A record that is wrong is refused whole, naming what was wrong, and nothing
  is recorded.

  Scenario: A disputed point is recorded with the article that reported it
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle
    When the point "tariff stacking" is disputed, as reported in this article:
      | outlet    | Reuters                                                    |
      | url       | https://www.reuters.com/world/japan/tariff-stacking-2025/  |
      | headline  | Japan says US tariffs should not stack on existing duties  |
      | published | 2025-08-07                                                 |
      | quote     | we have asked the US to correct the order                  |
    Then "TermsDisputed" was recorded as version 2
    And the entry rests on the article of "Reuters" headed "Japan says US tariffs should not stack on existing duties", published on 7 August 2025
    And the sources count 1 entry of "Reuters"

  Scenario: An article and a plain name of the same outlet are one source
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle, reported by "Reuters"
    When the point "tariff stacking" is disputed, as reported in this article:
      | outlet    | Reuters                                                    |
      | url       | https://www.reuters.com/world/japan/tariff-stacking-2025/  |
      | headline  | Japan says US tariffs should not stack on existing duties  |
      | published | 2025-08-07                                                 |
    Then the sources count 2 entries of "Reuters"
    And the entries reported by "Reuters" are versions 1 and 2

  Scenario: A story told without an outlet leaves out what rests only on its articles
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle
    And the point "tariff stacking" was disputed, as reported in this article:
      | outlet    | Reuters                                                    |
      | url       | https://www.reuters.com/world/japan/tariff-stacking-2025/  |
      | headline  | Japan says US tariffs should not stack on existing duties  |
      | published | 2025-08-07                                                 |
    When we ask how the negotiation stands without "Reuters"
    Then the answer has no point open

  Scenario Outline: An article a reader could not open or date is refused
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle
    When the point "tariff stacking" is disputed, as reported in an article whose <field> is "<value>"
    Then the event is refused as invalid: "<message>"
    And nothing was recorded

    Examples:
      | field     | value                      | message                                                            |
      | url       | javascript:alert(1)        | sources: source 1: url: must be an http or https address, got javascript: |
      | url       | ftp://ftp.example.org/a    | sources: source 1: url: must be an http or https address, got ftp: |
      | published | 30 February 2025           | sources: source 1: published:                                      |
      | published | 2025-02-30                 | sources: source 1: published:                                      |
      | outlet    |                            | sources: source 1: outlet:                                         |

  Scenario: An article without its outlet is refused
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle
    When the point "tariff stacking" is disputed, as reported in an article without its outlet
    Then the event is refused as invalid: "sources: source 1: outlet: Field required"
    And nothing was recorded

  Scenario: An article with a detail no record has is refused
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle
    When the point "tariff stacking" is disputed, as reported in an article that also gives its "author"
    Then the event is refused as invalid: "sources: source 1: unknown key 'author' (a source record has outlet, url, headline, published, quote)"
    And nothing was recorded

  Scenario: A headline too long to be a headline is refused
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle
    When the point "tariff stacking" is disputed, as reported in an article whose headline is 501 characters long
    Then the event is refused as invalid: "sources: source 1: headline: text must be at most 500 characters, got 501"
    And nothing was recorded

  Scenario: A headline holding a terminal's control character is refused
    Given a negotiation "us-japan-2025" between "US" and "JP" agreed in principle
    When the point "tariff stacking" is disputed, as reported in an article whose headline holds an escape character
    Then the event is refused as invalid: "sources: source 1: headline: text must not contain control characters, got U+001B"
    And nothing was recorded
