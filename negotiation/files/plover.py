"""Export the stories as PLOVER event records: one JSON object a line, for event-data tools.

Each event of a negotiation's story becomes one record in the PLOVER
"event-mode-context" scheme (PLOVER manual, draft 0.8, chapters "Event,
Mode, and Context" and "Data Fields"), with the CAMEO code it comes from
(CAMEO codelist; PLOVER's CAMEO2PLOVER-2021 conversion table). ``CODES``
holds one row per event type and says why; a few rows are refined by what
an event says (``code_for``).

Who acts follows the manual's "Compound and Reciprocal Actors": an event a
party takes (``by``) has that party as ``actor`` and the other as
``recipient``; a bilateral act (a deal, a meeting, talks) has both parties as
``actor`` and no ``recipient``. Parties are written as entity objects with the
code the negotiation names them by (ISO 3166-1 alpha-2, ``EU``), not PLOVER's
three-letter codes.

The records follow the story: retracted events are left out and corrected
ones carry their corrected data and date. The log's corrections
(``EventRetracted``, ``EventCorrected``) are not events in the world and make
no record. A ``ReportDenied`` entry marks the event it names (``denied_by``)
and, when a party denies, is a record of its own.

Every negotiation recorded so far is over trade (the measures are tariffs),
so the contexts say ``economic``, as the manual asks of "diplomatic
negotiations over a future trade agreement" (chapter "Contexts", Economic),
beside ``diplomatic`` for the negotiation's own acts (Contexts, Diplomatic).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from ..domain.payloads import describe
from ..domain.sources import Source, outlets
from ..errors import UnknownNegotiation
from ..ledger import Ledger


@dataclass(frozen=True, slots=True)
class PloverCode:
    """How an event type is coded: its CAMEO code and name, PLOVER category, mode (or None) and contexts."""

    cameo: str
    cameo_name: str
    event: str
    mode: str | None
    context: tuple[str, ...]


#: The PLOVER event categories (manual, chapter "Event Categories").
PLOVER_EVENTS = frozenset({
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST", "ACCUSE", "REJECT",
    "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
})

TRADE_TALKS = ("economic", "diplomatic")
TRADE = ("economic",)

#: The entries of the log that change the story without being events in the world: no record.
NOT_EVENTS = ("EventRetracted", "EventCorrected")
DENIED = "ReportDenied"

#: One row per event type (phase events, then what goes on beside the phase, then the denial).
CODES: dict[str, PloverCode] = {
    # A deal announced, not yet put in an instrument: a commitment to cooperate. AGREE covers "promises
    # to sign or ratify agreements" (manual, AGREE; SUPPORT, ambiguities); 0311 is its economic code.
    "AgreedInPrinciple": PloverCode("0311", "Express intent to cooperate economically", "AGREE", None,
                                    TRADE_TALKS),
    # A point of the deal openly contested: an objection, ACCUSE "disapprove" ("express disapproval;
    # condemn; complain", manual, ACCUSE modes); CAMEO2PLOVER codes 110 ACCUSE, disapprove.
    "TermsDisputed": PloverCode("110", "Disapprove", "ACCUSE", "disapprove", TRADE_TALKS),
    # The parties settle an open point: "agree to ... settle a dispute" is CAMEO 037, AGREE in
    # CAMEO2PLOVER (who gave way is not recorded, so not CONCEDE).
    "DisputeResolved": PloverCode("037", "Express intent to settle dispute", "AGREE", None, TRADE_TALKS),
    # "Cancellation of meetings are REJECT" (manual, SANCTION, ambiguities), mode "meet" (REJECT modes);
    # CAMEO2PLOVER codes 125 REJECT, meet, diplomatic.
    "VisitCancelled": PloverCode("125", "Reject proposal to meet, discuss, negotiate", "REJECT", "meet",
                                 ("diplomatic", "economic")),
    # Talks begin, resume or a round opens: CONSULT ("holding talks ... negotiations, bargaining",
    # manual, CONSULT); CAMEO2PLOVER codes 046 CONSULT, diplomatic.
    "WorkingLevelTalksOpened": PloverCode("046", "Engage in negotiation", "CONSULT", None, TRADE_TALKS),
    # A party breaks off the talks: CAMEO 164, SANCTION "withdraw" in CAMEO2PLOVER (manual, SANCTION
    # modes: "withdraw oneself ... from a group, mediation activity").
    "TalksSuspended": PloverCode("164", "Halt negotiations", "SANCTION", "withdraw", ("diplomatic", "economic")),
    # Enacted or signed: SUPPORT "ratify, sign, or finalize an agreement or treaty" (manual, SUPPORT);
    # CAMEO2PLOVER codes 057 SUPPORT, diplomatic.
    "AgreementFinalised": PloverCode("057", "Sign formal agreement", "SUPPORT", None, TRADE_TALKS),
    # Terms changed: in the logs these are implementing orders, notices and signed instruments (new
    # instruments after finalisation are recorded so), which 057 covers as for AgreementFinalised.
    "TermsAmended": PloverCode("057", "Sign formal agreement", "SUPPORT", None, TRADE_TALKS),
    # A round, a ministers' meeting or a summit of the negotiation: CONSULT (manual, CONSULT), 046 as
    # for talks; a call or video call is 041, mode "phone" (code_for). Host and visitor are not
    # recorded, so no "visit" mode ("this is not required", manual, Compound and Reciprocal Actors).
    "MeetingHeld": PloverCode("046", "Engage in negotiation", "CONSULT", None, TRADE_TALKS),
    # A tariff threatened: CAMEO 1312, THREATEN "restrict" ("restrict movement of ... goods, including
    # boycotts", manual, THREATEN modes), economic in CAMEO2PLOVER.
    "MeasureThreatened": PloverCode("1312", "Threaten to boycott, embargo, or sanction", "THREATEN", "restrict",
                                    TRADE),
    # A tariff in force: CAMEO 163. CAMEO2PLOVER says COERCE "restrict" (restrictions on freedoms), but
    # the manual codes "international (political or economic) sanctions" as SANCTION "discontinue"
    # (SANCTION modes: "curtail ... commercial ... exchanges"), which a tariff is. Not 172
    # (administrative sanctions: restrictions on a population, COERCE).
    "MeasureImposed": PloverCode("163", "Impose embargo, boycott, or sanctions", "SANCTION", "discontinue",
                                 TRADE),
    # A truce: the measure stops biting now, a material act, RETREAT (manual, RETREAT: "immediate (not
    # simply promised) material consequences"); CAMEO2PLOVER's "ease" mode is withdrawn ("no longer a
    # mode"), and no RETREAT mode fits, so none.
    "MeasurePaused": PloverCode("085", "Ease economic sanctions, boycott, embargo", "RETREAT", None, TRADE),
    # A measure removed or struck down, as for a pause. (A threat withdrawn is a verbal concession and
    # would be CONCEDE; the row cannot tell the two apart.)
    "MeasureLifted": PloverCode("085", "Ease economic sanctions, boycott, embargo", "RETREAT", None, TRADE),
    # An ultimatum by a party: CAMEO 139, THREATEN. CAMEO2PLOVER adds mode "relations", but the mode is
    # "the content of the threat" (manual, THREATEN) and the content is not recorded: no mode. A target
    # set by both is code_for's.
    "DeadlineSet": PloverCode("139", "Give ultimatum", "THREATEN", None, TRADE_TALKS),
    # A court, parliament, third country or firm acts on the negotiation; what it did is free text, so no
    # code fits every act. The acts recorded are mostly rulings, votes and acts against a party's
    # measures or the deal: ACCUSE "disapprove" is the broad verbal-conflict category and needs no
    # recipient. A court's ruling is 116 (code_for), ACCUSE, disapprove, legal in CAMEO2PLOVER; the
    # context adds the actor's kind.
    "ThirdPartyActed": PloverCode("110", "Disapprove", "ACCUSE", "disapprove", TRADE),
    # A party denies a report. CAMEO's only denial is 016 (cue 01, which PLOVER drops); the manual's
    # "CAMEO vs. PLOVER" notes say 016 "might be considered REJECT" if documented: it is, here.
    DENIED: PloverCode("016", "Deny responsibility", "REJECT", None, ("diplomatic", "economic")),
}

#: Rows an event's own data picks over its type's (``code_for``).
BY_PHONE = PloverCode("041", "Discuss by telephone", "CONSULT", "phone", TRADE_TALKS)  # "phone or ... remote"
JOINT_TARGET = PloverCode("030", "Express intent to cooperate", "AGREE", None, TRADE_TALKS)  # no one's ultimatum
COURT_RULING = PloverCode("116", "Find guilty or liable (legally)", "ACCUSE", "disapprove", ("legal", "economic"))

#: A third party's kind as the context it adds (manual, Contexts) and its sector code (Sector Codes).
KIND_CONTEXT = {"court": "legal", "legislature": "legislative", "government": "diplomatic",
                "international body": "diplomatic"}
KIND_SECTOR = {"court": "JUD", "legislature": "LEG", "government": "GOV", "company": "BUS"}


def code_for(event_type: str, data: Mapping[str, Any]) -> PloverCode:
    """The row an event is coded by: its type's, refined by what it says (a call, a joint target, a court)."""
    code = CODES[event_type]
    if event_type == "MeetingHeld":
        if data.get("format") in ("call", "video"):
            code = BY_PHONE
        if data.get("level") == "leaders":  # "executive relations with ... foreign heads of state" (Contexts)
            code = replace(code, context=(*code.context, "executive"))
    elif event_type == "DeadlineSet" and not data.get("by"):
        code = JOINT_TARGET
    elif event_type == "ThirdPartyActed":
        kind = data.get("kind")
        code = COURT_RULING if kind == "court" else code
        if kind in KIND_CONTEXT and KIND_CONTEXT[kind] not in code.context:
            code = replace(code, context=(KIND_CONTEXT[kind], *code.context))
    return code


def plover_lines(ledger: Ledger, negotiation_ids: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """The PLOVER records of the negotiations named (default: all, in the order they were opened).

    Per negotiation, in story order: every event of its story with a row in
    ``CODES``, and each denial a party made. Every id is checked before the
    first record is made: an unknown one is refused (UnknownNegotiation).
    """
    ids = list(negotiation_ids) or ledger.negotiations()
    for negotiation_id in ids:
        if not ledger.version(negotiation_id):
            raise UnknownNegotiation(negotiation_id)
    return (line for negotiation_id in ids for line in _lines(ledger, negotiation_id))


@dataclass(frozen=True, slots=True)
class _Told:
    """An event as a record is made of it: the story's, or a denial from the log."""

    event_id: str
    version: int
    type: str
    data: Mapping[str, Any]
    occurred_at: datetime
    sources: tuple[Source, ...]


def _lines(ledger: Ledger, negotiation_id: str) -> Iterator[dict[str, Any]]:
    parties = ledger.get(negotiation_id).parties
    story = [event for event in ledger.story(negotiation_id) if event.type in CODES]
    denied_by = {event.event_id: list(event.denied_by) for event in story}
    events = [_Told(e.event_id, e.version, e.type, e.data, e.occurred_at, e.sources) for e in story]
    # A denial is an act of a party in the world too; the story marks the event it denies.
    denials = [_Told(e.event_id, e.version, e.type, e.data, e.occurred_at, e.sources)
               for e in ledger.history(negotiation_id) if e.type == DENIED and e.retracted_by is None]
    imposer: dict[str, str] = {}  # each measure's party, for a pause or a lift that names none
    for told in sorted([*events, *denials], key=lambda e: (e.occurred_at, e.version)):
        if told.type in ("MeasureThreatened", "MeasureImposed") and told.data.get("by") in parties:
            imposer[told.data["measure"]] = told.data["by"]
        if told.type == DENIED and told.data.get("by") not in parties:
            continue  # an outlet contradicting a report marks it, but is no act of a party
        actor, recipient = _sides(told, parties, imposer)
        yield _record(negotiation_id, told, actor, recipient, denied_by.get(told.event_id, []))


def _party(code: str) -> dict[str, Any]:
    return {"code": code}


def _sides(told: _Told, parties: Sequence[str], imposer: Mapping[str, str]
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The record's ``actor`` and ``recipient``: one party acting on the other, or both acting together."""
    data = told.data
    if told.type == "ThirdPartyActed":
        entity: dict[str, Any] = {"entity_text": data.get("actor")}
        if data.get("of"):
            entity["code"] = data["of"]
        elif data.get("kind") == "international body":
            entity["code"] = "IGO"  # PLOVER's code for one (Country Names, Non-state international actors)
        if data.get("kind") in KIND_SECTOR:
            entity["sector"] = KIND_SECTOR[data["kind"]]
        return [entity], []
    by = data.get("according_to") if told.type == "TermsAmended" else data.get("by")
    if told.type in ("MeasurePaused", "MeasureLifted") and not by:
        by = imposer.get(data.get("measure", ""))
    if told.type == "TermsDisputed" and not by:
        stating = [party for party in data.get("positions", {}) if party in parties]
        by = stating[0] if len(stating) == 1 else None
    if isinstance(by, str) and by in parties:
        return [_party(by)], [_party(party) for party in parties if party != by]
    if by:  # an outside actor (a court striking a measure down)
        return [{"entity_text": by}], []
    return [_party(party) for party in parties], []


def _record(negotiation_id: str, told: _Told, actor: list[dict[str, Any]], recipient: list[dict[str, Any]],
            denied_by: list[str]) -> dict[str, Any]:
    code = code_for(told.type, told.data)
    moment = told.occurred_at.astimezone(UTC)
    ends_on = told.data.get("ends_on") if told.type == "MeetingHeld" else None
    return {
        "id": told.event_id,
        "date": moment.date().isoformat(),
        "time": None if moment.time() == datetime.min.time() else moment.time().isoformat() + "Z",
        "enddate": str(ends_on) if ends_on else None,
        "actor": actor,
        "recipient": recipient,
        "event": code.event,
        "mode": code.mode,
        "context": list(code.context),
        "cameo": code.cameo,
        "text": describe(told.type, told.data),
        "source": "; ".join(outlets(told.sources)),
        "negotiation": negotiation_id,
        "event_type": told.type,
        "denied_by": denied_by,
    }


def write_lines(lines: Iterable[Mapping[str, Any]], out: TextIO) -> tuple[int, int]:
    """Write records as JSON lines; returns (negotiations, records)."""
    negotiations: set[str] = set()
    count = 0
    for line in lines:
        out.write(orjson.dumps(line).decode() + "\n")
        negotiations.add(line["negotiation"])
        count += 1
    return len(negotiations), count
