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
from functools import cache, cached_property

from knowledge.codes import CodeIndex
from knowledge.compete import ANSWER_MARGIN, ANSWER_SCORE, SUGGEST_SCORE, compete
from knowledge.describe import DescriptionIndex, describes
from knowledge.description_bar import description_evidence
from knowledge.evidence import Evidence, Paste
from knowledge.lang import detect_lang
from knowledge.loader import KnowledgeBase
from knowledge.messages import MessageIndex, content
from knowledge.model import Entry, Lang
from knowledge.numeric import NumericIndex
from knowledge.signals import backup_context, supported
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

    @cached_property
    def descriptions(self) -> DescriptionIndex:
        """Every entry's own words for pastes that only describe an error (built on first use)."""
        return DescriptionIndex(self.kb)

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
        may_describe = not unknown and describes(paste)
        winners: list[Evidence] = []
        losers: list[Evidence] = []
        if evidence:  # compete weighs evidence in place: a copy when it may run again
            mine = [_copy(e) for e in evidence] if may_describe else evidence
            winners, losers = compete(mine, paste, self.descriptions.fit)
        # Nothing names the error (not even a code we don't know) with an answer's score: how
        # the paste describes it. Judged after competing: a SQL message that a HANA paste
        # shows is no answer, and the paste's description may still tell which HANA error.
        # (Readings that score an answer but tie are left to their tie: descriptions would
        # rarely settle it, and cost most in a large knowledge base of near-identical messages.)
        if may_describe and all(w.score < ANSWER_SCORE for w in winners):
            evidence += description_evidence(self.descriptions, paste, evidence)
            winners, losers = compete(evidence, paste, self.descriptions.fit)
        return (
            [_to_match(ev, paste.disp) for ev in winners],
            [_to_match(ev, paste.disp) for ev in losers],
            unknown,
        )


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


def _copy(ev: Evidence) -> Evidence:
    return Evidence(ev.entry, ev.code, ev.via, ev.score, ev.span)  # replace() is 4x slower


def _suggestion_order(m: Match) -> tuple[bool, int]:
    return m.via == "symptom", -m.score


def _to_match(ev: Evidence, disp: str) -> Match:
    start, end = ev.span
    excerpt = disp[start:end].replace("\n", " ").strip()
    if len(excerpt) > 300:
        excerpt = excerpt[:299] + "…"
    return Match(ev.code, ev.entry, round(ev.score), ev.via, excerpt, ev.span, round(ev.margin))


@cache
def default_matcher() -> Matcher:
    """The matcher over the shipped knowledge base, built once (read from the cache when fresh)."""
    from knowledge.kbcache import cached_matcher  # here: kbcache imports this module

    return cached_matcher()


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
