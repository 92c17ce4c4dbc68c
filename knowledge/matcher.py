"""Match a paste against the knowledge base (placeholder: exact codes only; replaced next)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from knowledge.loader import KnowledgeBase, load_kb
from knowledge.model import Entry

MAX_PASTE_BYTES = 64 * 1024
ANSWER_SCORE = 85
ANSWER_MARGIN = 5
SUGGEST_SCORE = 55


@dataclass(frozen=True, slots=True)
class Match:
    """One error found in a paste."""

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


class Matcher:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def match(self, text: str, *, limit: int = 5, min_score: int = ANSWER_SCORE) -> list[Match]:
        found: dict[str, Match] = {}
        for m in re.finditer(r"[A-Za-z][A-Za-z0-9]{5,}", text):
            entry = self.kb.get(m.group())
            if entry and entry.code not in found:
                found[entry.code] = Match(entry.code, entry, 100, "code", m.group(), m.span())
        return [m for m in found.values() if m.score >= min_score][:limit]


@cache
def default_matcher() -> Matcher:
    return Matcher(load_kb())


def match(text: str, *, limit: int = 5, min_score: int = ANSWER_SCORE) -> list[Match]:
    return default_matcher().match(text, limit=limit, min_score=min_score)


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the bot and the CLI need to answer one paste."""

    matches: list[Match]
    suggestions: list[Match]
    lang: str | None
    truncated: bool


def analyse(text: str, *, kb: KnowledgeBase | None = None) -> Analysis:
    m = Matcher(kb) if kb is not None else default_matcher()
    found = m.match(text, limit=10, min_score=SUGGEST_SCORE)
    return Analysis(
        matches=[x for x in found if x.confident],
        suggestions=[x for x in found if not x.confident][:3],
        lang=None,
        truncated=len(text.encode()) > MAX_PASTE_BYTES,
    )
