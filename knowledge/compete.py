"""How readings of a paste compete: per entry, weighed by context and workload, then per span.

Each entry keeps its best evidence (others that agree elsewhere in the paste ride along). Then:
generic Resource Manager entries need Azure Backup words; a paste named by code or message needs
no symptom of another error; a workload's own messages answer only when the paste names that
workload or none; naming a workload settles near-ties. Readings of the same words compete: the
best wins and its margin over the runner-up is part of the decision to answer unasked. Backup
errors rank before generic Resource Manager ones, symptoms last.
"""

from __future__ import annotations

from collections.abc import Callable

from knowledge.codes import GENERIC_WITHOUT_CONTEXT
from knowledge.evidence import Evidence, Paste, inside
from knowledge.messages import SYMPTOM_ALONE
from knowledge.model import Entry
from knowledge.signals import workloads

ANSWER_SCORE = 85  # answer unasked at or above this score ...
ANSWER_MARGIN = 5  # ... when no other reading of the same words comes this close
SUGGEST_SCORE = 55  # "did you mean" suggestions start here; a reading below it is no rival
WORKLOAD_EDGE = 5  # what naming an entry's workload is worth between near-equal readings
VM_PRIOR = frozenset({"vm"})  # the workload of a paste that names none (see compete)

_CODE_VIAS = frozenset({"code", "alias", "fuzzy_code", "truncated_code", "numeric_code"})
_WORDS_VIAS = frozenset({"message", "symptom"})
# Workloads with messages of their own (a database's, an agent's, a storage service's).
_OWN = frozenset(
    {
        *("sql", "sap-hana", "sap-ase", "mars", "mabs-dpm", "system-state", "azure-files"),
        *("blob", "adls", "disk", "aks", "postgresql", "mysql"),
    }
)


def compete(
    evidence: list[Evidence],
    paste: Paste,
    fits: Callable[[Entry], frozenset[str]] = lambda e: frozenset({e.workload}),
) -> tuple[list[Evidence], list[Evidence]]:
    """Merge evidence per entry, weigh it, let readings of the same words compete: the winners
    (best first, each code once) and the losers. ``fits``: the workloads an entry is documented
    for (a PostgreSQL entry that the MySQL article documents too fits both)."""
    if not paste.context:  # every Azure service says AuthorizationFailed: backup words first
        for ev in evidence:
            if ev.entry.workload == "arm" and ev.entry.generic:  # its messages too
                ev.score = min(ev.score, GENERIC_WITHOUT_CONTEXT)
    per_entry: dict[str, Evidence] = {}
    for ev in sorted(evidence, key=lambda e: -e.score):
        best = per_entry.get(ev.entry.code)
        if best is None:
            per_entry[ev.entry.code] = ev
        elif not _overlap(best.span, ev.span):
            best.extra.append(ev)
    for ev in per_entry.values():
        if any(x.via in _CODE_VIAS for x in [ev, *ev.extra]) and any(
            x.via == "message" and x.score >= 60 for x in [ev, *ev.extra]
        ):
            ev.score = min(100.0, ev.score + 3)  # code and message agree
            if ev.via not in _CODE_VIAS:
                ev.code = next(x.code for x in ev.extra if x.via in _CODE_VIAS)
    # A paste that names its error by code or message needs no symptom to answer for another.
    if any(e.via != "symptom" and e.score >= ANSWER_SCORE for e in per_entry.values()):
        for ev in per_entry.values():
            if ev.via == "symptom":
                ev.score = min(ev.score, SYMPTOM_ALONE)
    # A SQL paste is not answered with a HANA message: a workload's own words (its messages and
    # symptoms) answer only when the paste names that workload or none.
    # (Read around the matched words: a HANA message may itself name a snapshot resource group.)
    for ev in per_entry.values():
        if ev.via in _WORDS_VIAS and ev.entry.workload in _OWN:
            rest = f"{paste.low[: ev.span[0]]} {paste.low[ev.span[1] :]}"
            named = workloads(rest, named=True)
            if named and not fits(ev.entry) & named:
                ev.score = min(ev.score, SYMPTOM_ALONE)
    # Naming the entry's workload ("SQL", "HANA", "MARS agent") settles near-ties between
    # entries of different workloads that document the same words; it never adds a match.
    edge = {id(ev): ev.score for ev in per_entry.values()}
    if len(per_entry) > 1:
        # A paste that names no workload is about a VM more often than not: the same prior as
        # knowledge/describe.py's VM_PRIOR, for readings of VM and workload twins alike.
        named = workloads(paste.low) or VM_PRIOR
        for ev in per_entry.values():
            if fits(ev.entry) & named:
                edge[id(ev)] += WORKLOAD_EDGE
    ranked = sorted(
        per_entry.values(),
        key=lambda e: (
            _tier(e),
            -edge[id(e)],
            e.via != "code",
            e.span[0] - e.span[1],
            e.code,
        ),
    )
    winners: list[Evidence] = []
    losers: list[Evidence] = []
    for ev in ranked:
        at = next((i for i, w in enumerate(winners) if _overlap(w.span, ev.span)), None)
        if at is None:
            winners.append(ev)
            continue
        rival = winners[at]
        if (
            rival.via not in _CODE_VIAS
            and inside(rival.span, ev.span)
            and edge[id(ev)] >= edge[id(rival)] - ANSWER_MARGIN
        ):  # all of the words read nearly as well as some of them: the longer reading wins
            winners[at], ev.margin = ev, min(ev.margin, rival.margin)
            ev, rival = rival, ev
        # The same problem told twice is no doubt; nor is a symptom beside a code or message,
        # nor a reading of a few of the words a longer reading explains ("...resource group" in
        # "...snapshot data store resource group does not exist").
        weaker = (ev.via == "symptom" and rival.via != "symptom") or inside(ev.span, rival.span)
        if not _related(rival.entry, ev.entry) and not weaker:
            rival.margin = min(rival.margin, edge[id(rival)] - edge[id(ev)])
        ev.margin = min(0.0, edge[id(ev)] - edge[id(rival)])
        losers.append(ev)
    # Backup errors before generic Resource Manager ones, symptoms last.
    winners.sort(key=lambda e: (_tier(e), _generic(e.entry), -edge[id(e)]))
    seen_codes: set[str] = set()
    out = []
    for ev in winners:
        if ev.code not in seen_codes:
            seen_codes.add(ev.code)
            out.append(ev)
    return out, losers


def _tier(ev: Evidence) -> int:
    """Codes and messages first, then symptoms; last, readings too weak to be suggested: a
    message scoring 43 is no reason to silence a symptom scoring 90 of the same words."""
    if ev.score < SUGGEST_SCORE:
        return 2
    return int(ev.via == "symptom")


def _generic(entry: Entry) -> bool:
    return entry.generic or entry.workload == "arm"


def _related(a: Entry, b: Entry) -> bool:
    return b.code in a.related or a.code in b.related


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    shorter = max(1, min(a[1] - a[0], b[1] - b[0]))
    return inter > 0 and inter >= 0.5 * shorter
