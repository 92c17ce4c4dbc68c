"""What real traffic says the knowledge base lacks: redacted unmatched pastes, grouped, and votes.

Pure functions over plain rows; ``bot/report_cli.py`` reads the store and prints the result of
``build_report``. Only ``redact_excerpt`` ever sees a raw paste, and it keeps none of its
identifiers: GUIDs, resource ids, e-mail and IP addresses, internal host names, tokens and secrets
become placeholders (``knowledge/redact.py``, linear time on any input).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz, process, utils

from knowledge.coverage import UnknownCode, WorkloadCoverage, coverage, group_unknown_codes
from knowledge.loader import KnowledgeBase
from knowledge.redact import redact_excerpt as _redact_excerpt

EXCERPT_CHARS = 300
GROUP_SCORE = 80  # token_set_ratio at which two redacted excerpts count as the same problem
EXAMPLES = 3


def redact_excerpt(text: str, *, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of ``text`` with identifiers and secrets replaced."""
    return _redact_excerpt(text, limit=limit)


@dataclass(frozen=True, slots=True)
class UnmatchedRow:
    """One stored unmatched paste (already redacted)."""

    excerpt: str
    paste_hash: str
    best_code: str | None
    best_score: float | None
    source: str
    channel: str
    at: datetime
    unknown_codes: tuple[str, ...] = ()  # codes in the paste the knowledge base did not know


@dataclass(slots=True)
class Group:
    """Similar unmatched pastes: how many, where, when, and what the bot thought closest."""

    excerpt: str
    rows: list[UnmatchedRow] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many pastes fell into this group."""
        return len(self.rows)

    def best_suggestion(self) -> tuple[str, float] | None:
        """The suggestion made most often in the group, with its best score; None if none."""
        codes = Counter(r.best_code for r in self.rows if r.best_code)
        if not codes:
            return None
        code = codes.most_common(1)[0][0]
        return code, max(r.best_score or 0.0 for r in self.rows if r.best_code == code)

    def examples(self, limit: int = EXAMPLES) -> list[str]:
        """Up to ``limit`` distinct excerpts, the group's first one first."""
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.setdefault(row.excerpt, None)
        return list(seen)[:limit]


def group_unmatched(
    rows: Iterable[UnmatchedRow], *, score_cutoff: float = GROUP_SCORE
) -> list[Group]:
    """Cluster excerpts by token_set_ratio (leader clustering), biggest group first."""
    groups: list[Group] = []
    leaders: list[str] = []  # processed text of each group's first excerpt
    for row in sorted(rows, key=lambda r: r.at):
        text = utils.default_process(row.excerpt)
        found = process.extractOne(
            text, leaders, scorer=fuzz.token_set_ratio, processor=None, score_cutoff=score_cutoff
        )
        if found is not None and text:
            groups[found[2]].rows.append(row)
            continue
        groups.append(Group(excerpt=row.excerpt, rows=[row]))
        leaders.append(text)
    return sorted(groups, key=lambda g: (-g.count, -max(r.at for r in g.rows).timestamp()))


@dataclass(frozen=True, slots=True)
class Votes:
    """Feedback on one answer (a knowledge-base code)."""

    code: str
    helped: int
    not_helped: int


def rank_feedback(votes: Iterable[tuple[str, bool]]) -> list[Votes]:
    """Per code (helped, didn't help) from ``(code, helpful)`` votes; most "didn't help" first."""
    helped: Counter[str] = Counter()
    not_helped: Counter[str] = Counter()
    for code, helpful in votes:
        (helped if helpful else not_helped)[code] += 1
    codes = set(helped) | set(not_helped)
    ranked = [Votes(c, helped[c], not_helped[c]) for c in codes]
    # Ties: the larger share of "didn't help" first, then the code, so the order is stable.
    return sorted(
        ranked,
        key=lambda v: (-v.not_helped, -(v.not_helped / (v.helped + v.not_helped)), v.code),
    )


@dataclass(frozen=True, slots=True)
class Report:
    """Everything ``backup-fix kb report`` shows."""

    since: datetime
    groups: Sequence[Group]
    votes: Sequence[Votes]
    unknown: Sequence[UnknownCode] = ()  # codes pastes showed that the knowledge base lacks
    coverage: Sequence[WorkloadCoverage] = ()  # per workload, when a knowledge base was given

    @property
    def unmatched_total(self) -> int:
        """Unmatched pastes in the period."""
        return sum(g.count for g in self.groups)


def build_report(
    since: datetime,
    rows: Iterable[UnmatchedRow],
    votes: Iterable[tuple[str, bool]],
    *,
    kb: KnowledgeBase | None = None,
) -> Report:
    """Group the unmatched pastes and their unknown codes, rank the feedback of one period; with
    ``kb``, its coverage per workload (and codes it has learnt since are no longer unknown).
    """
    rows = list(rows)
    known = (lambda code: kb.get(code) is not None) if kb is not None else (lambda _code: False)
    return Report(
        since=since,
        groups=group_unmatched(rows),
        votes=rank_feedback(votes),
        unknown=group_unknown_codes(rows, known=known),
        coverage=coverage(kb) if kb is not None else (),
    )
