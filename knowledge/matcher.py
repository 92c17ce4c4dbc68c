"""Find the Azure Backup errors in a paste of any shape.

Evidence of three kinds (codes: ``knowledge/codes.py``; numeric and hexadecimal ids:
``knowledge/numeric.py``; messages and symptoms: ``knowledge/messages.py``), each tied to the part
of the paste it comes from. Readings of the same part compete: only the best survives, and its
margin over the runner-up is part of the decision to answer unasked. A symptom never beats a code
or a message; the workload the paste names breaks near-ties; backup errors rank before generic
Resource Manager ones.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache

from knowledge.codes import GENERIC_WITHOUT_CONTEXT, CodeIndex
from knowledge.evidence import Evidence, Paste
from knowledge.lang import detect_lang
from knowledge.loader import KnowledgeBase, load_kb
from knowledge.messages import SYMPTOM_ALONE, MessageIndex, content
from knowledge.model import Entry, Lang
from knowledge.numeric import NumericIndex
from knowledge.signals import backup_context, supported, workloads
from knowledge.text import MAX_PASTE_BYTES, clean, cut, terms

__all__ = [
    "ANSWER_MARGIN",
    "ANSWER_SCORE",
    "MAX_PASTE_BYTES",
    "SUGGEST_SCORE",
    "Analysis",
    "Match",
    "Matcher",
    "analyse",
    "default_matcher",
    "match",
    "matcher_for",
]

ANSWER_SCORE = 85  # answer unasked at or above this score ...
ANSWER_MARGIN = 5  # ... when no other reading of the same words comes this close
SUGGEST_SCORE = 55  # "did you mean" suggestions start here
WORKLOAD_EDGE = 5  # what naming an entry's workload is worth between near-equal readings

_CODE_VIAS = frozenset({"code", "alias", "fuzzy_code", "truncated_code", "numeric_code"})
_WORDS_VIAS = frozenset({"message", "symptom"})
# Workloads with messages of their own (a database's, an agent's, a storage service's).
_OWN = frozenset(
    {
        *("sql", "sap-hana", "sap-ase", "mars", "mabs-dpm", "system-state", "azure-files"),
        *("blob", "adls", "disk", "aks", "postgresql", "mysql"),
    }
)


@dataclass(frozen=True, slots=True)
class Match:
    """One error found in a paste: which, how sure, why, and where."""

    code: str
    entry: Entry
    score: int
    via: str
    excerpt: str
    span: tuple[int, int]
    margin: int = 100

    @property
    def confident(self) -> bool:
        """Clears the bar for answering unasked."""
        return self.score >= ANSWER_SCORE and self.margin >= ANSWER_MARGIN


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the bot and the CLI need to answer one paste."""

    matches: list[Match]
    suggestions: list[Match]
    lang: Lang | None
    truncated: bool
    # Azure-Backup-shaped codes in the paste that the knowledge base does not know, as written,
    # in order of appearance: never answered as another code (see knowledge/families.py).
    unknown_codes: list[str] = field(default_factory=list)


class Matcher:
    """The knowledge base's codes and messages, indexed for matching pastes."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.codes = CodeIndex(kb)
        self.numbers = NumericIndex(kb)
        self.messages = MessageIndex(kb)

    def match(
        self,
        text: str,
        *,
        limit: int = 5,
        min_score: int = ANSWER_SCORE,
        min_margin: int = ANSWER_MARGIN,
    ) -> list[Match]:
        """The errors in ``text`` scoring at least ``min_score`` with that margin, best first."""
        winners, _, _ = self._rank(text)
        found = [m for m in winners if m.score >= min_score and m.margin >= min_margin]
        return found[:limit]

    def candidates(
        self, text: str, *, limit: int = 3, min_score: int = SUGGEST_SCORE
    ) -> list[Match]:
        """Every reading of ``text`` at or above ``min_score``, winners and runners-up."""
        winners, losers, _ = self._rank(text)
        ranked = sorted(winners + losers, key=_suggestion_order)
        seen: set[str] = set()
        out = []
        for m in ranked:
            if m.score >= min_score and m.entry.code not in seen:
                seen.add(m.entry.code)
                out.append(m)
        return out[:limit]

    def analyse(self, text: str) -> Analysis:
        """Confident matches, up to three suggestions below the bar, the language, the cut."""
        cut_text, truncated = cut(text)
        winners, losers, unknown = self._rank(cut_text)
        matches = [m for m in winners if m.confident]
        taken = {m.entry.code for m in matches}
        rest = sorted(
            (m for m in winners + losers if not m.confident and m.score >= SUGGEST_SCORE),
            key=_suggestion_order,
        )
        suggestions: list[Match] = []
        for m in rest:
            if m.entry.code not in taken:
                taken.add(m.entry.code)
                suggestions.append(m)
        return Analysis(matches, suggestions[:3], detect_lang(cut_text), truncated, unknown)

    def unknown_codes(self, text: str) -> list[str]:
        """Azure-Backup-shaped codes in ``text`` that the knowledge base does not know, in order."""
        return self.codes.read(prepare(text))[1]

    def _rank(self, text: str) -> tuple[list[Match], list[Match], list[str]]:
        paste = prepare(text)
        codes, unknown = self.codes.read(paste)
        evidence = codes + self.numbers.evidence(paste) + self.messages.evidence(paste)
        winners, losers = _compete(evidence, paste)
        return winners, losers, unknown


def prepare(text: str) -> Paste:
    """Cut, clean and split a paste once, for every index."""
    text, _ = cut(text)
    disp = clean(text, lines=True)  # line breaks kept: codes are read across them
    low = disp.lower()
    if len(low) != len(disp):  # a few characters change length when lower-cased
        disp = low
    low = low.replace("\n", " ")
    found = terms(low)
    words = {t for t, _, _ in found if content(t)}
    return Paste(disp, low, found, words, backup_context(low), supported(low))


def _compete(evidence: list[Evidence], paste: Paste) -> tuple[list[Match], list[Match]]:
    """Merge evidence per entry, let readings of the same words compete, build the matches."""
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
            if named and ev.entry.workload not in named:
                ev.score = min(ev.score, SYMPTOM_ALONE)
    # Naming the entry's workload ("SQL", "HANA", "MARS agent") settles near-ties between
    # entries of different workloads that document the same words; it never adds a match.
    fits = workloads(paste.low) if len(per_entry) > 1 else frozenset()
    edge = {
        id(ev): ev.score + (WORKLOAD_EDGE if ev.entry.workload in fits else 0)
        for ev in per_entry.values()
    }
    ranked = sorted(
        per_entry.values(),
        key=lambda e: (
            e.via == "symptom",
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
            and _inside(rival.span, ev.span)
            and edge[id(ev)] >= edge[id(rival)] - ANSWER_MARGIN
        ):  # all of the words read nearly as well as some of them: the longer reading wins
            winners[at], ev.margin = ev, min(ev.margin, rival.margin)
            ev, rival = rival, ev
        # The same problem told twice is no doubt; nor is a symptom beside a code or message,
        # nor a reading of a few of the words a longer reading explains ("...resource group" in
        # "...snapshot data store resource group does not exist").
        weaker = (ev.via == "symptom" and rival.via != "symptom") or _inside(ev.span, rival.span)
        if not _related(rival.entry, ev.entry) and not weaker:
            rival.margin = min(rival.margin, edge[id(rival)] - edge[id(ev)])
        ev.margin = min(0.0, edge[id(ev)] - edge[id(rival)])
        losers.append(ev)
    # Backup errors before generic Resource Manager ones, symptoms last.
    winners.sort(key=lambda e: (e.via == "symptom", _generic(e.entry), -edge[id(e)]))
    seen_codes: set[str] = set()
    out_w = []
    for ev in winners:
        if ev.code not in seen_codes:
            seen_codes.add(ev.code)
            out_w.append(_to_match(ev, paste.disp))
    return out_w, [_to_match(ev, paste.disp) for ev in losers]


def _generic(entry: Entry) -> bool:
    return entry.generic or entry.workload == "arm"


def _suggestion_order(m: Match) -> tuple[bool, int]:
    return m.via == "symptom", -m.score


def _inside(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Span ``a`` lies within ``b`` and covers at most three quarters of it."""
    return b[0] <= a[0] and a[1] <= b[1] and 4 * (a[1] - a[0]) <= 3 * (b[1] - b[0])


def _related(a: Entry, b: Entry) -> bool:
    return b.code in a.related or a.code in b.related


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    shorter = max(1, min(a[1] - a[0], b[1] - b[0]))
    return inter > 0 and inter >= 0.5 * shorter


def _to_match(ev: Evidence, disp: str) -> Match:
    start, end = ev.span
    excerpt = disp[start:end].replace("\n", " ").strip()
    if len(excerpt) > 300:
        excerpt = excerpt[:299] + "…"
    return Match(ev.code, ev.entry, round(ev.score), ev.via, excerpt, ev.span, round(ev.margin))


@cache
def default_matcher() -> Matcher:
    """The matcher over the shipped knowledge base, built once."""
    return Matcher(load_kb())


_BY_KB: dict[int, tuple[KnowledgeBase, Matcher]] = {}
_BY_KB_LOCK = threading.Lock()


def matcher_for(kb: KnowledgeBase) -> Matcher:
    """The matcher over ``kb``, built once per knowledge base (building costs milliseconds)."""
    hit = _BY_KB.get(id(kb))
    if hit is not None and hit[0] is kb:
        return hit[1]
    with _BY_KB_LOCK:
        hit = _BY_KB.get(id(kb))
        if hit is None or hit[0] is not kb:  # the id of a collected KB may be reused
            if len(_BY_KB) >= 8:
                _BY_KB.clear()
            hit = (kb, Matcher(kb))
            _BY_KB[id(kb)] = hit
        return hit[1]


def match(
    text: str,
    *,
    limit: int = 5,
    min_score: int = ANSWER_SCORE,
    min_margin: int = ANSWER_MARGIN,
    kb: KnowledgeBase | None = None,
) -> list[Match]:
    """The errors in ``text`` that clear the bar for answering unasked, best first. Pure."""
    matcher = matcher_for(kb) if kb is not None else default_matcher()
    return matcher.match(text, limit=limit, min_score=min_score, min_margin=min_margin)


def analyse(text: str, *, kb: KnowledgeBase | None = None) -> Analysis:
    """Matches, suggestions, language and truncation of one paste."""
    matcher = matcher_for(kb) if kb is not None else default_matcher()
    return matcher.analyse(text)
