"""What the knowledge base covers, per workload, and which codes real pastes showed that it lacks.

Pure functions for ``backup-fix kb report`` (see ``knowledge/report.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from knowledge.answer import compose
from knowledge.families import Families, default_families
from knowledge.loader import KnowledgeBase
from knowledge.model import WORKLOADS

ZH_SOURCES = ("seed", "microsoft", "ours")  # who wrote an entry's zh-TW prose (Source.zh)


@dataclass(frozen=True, slots=True)
class WorkloadCoverage:
    """One workload's entries: which have symptoms, a zh-TW message, actions; zh-TW authorship."""

    workload: str
    codes: tuple[str, ...]
    with_symptoms: tuple[str, ...]
    with_zh_message: tuple[str, ...]
    zh_prose: Mapping[str, tuple[str, ...]]  # seed / microsoft / ours -> codes
    with_actions: tuple[str, ...]  # diagnostics or remediations offered with the answer

    @property
    def entries(self) -> int:
        """How many entries the workload has."""
        return len(self.codes)


def coverage(kb: KnowledgeBase) -> list[WorkloadCoverage]:
    """Per workload (in the schema's order; empty ones left out), what its entries hold."""
    by_workload: dict[str, list[str]] = {}
    symptoms: set[str] = set()
    zh_message: set[str] = set()
    zh_by: dict[str, str] = {}
    actions: set[str] = set()
    for entry in sorted(kb.entries, key=lambda e: e.code.casefold()):
        by_workload.setdefault(entry.workload, []).append(entry.code)
        if entry.symptoms:
            symptoms.add(entry.code)
        if any(m.lang == "zh-TW" for m in entry.messages):
            zh_message.add(entry.code)
        zh_by[entry.code] = entry.source.zh
        answer = compose(entry, kb, "en")  # what the bot offers, sections' actions included
        if answer.diagnostics or answer.remediations:
            actions.add(entry.code)
    out = []
    for workload in sorted(by_workload, key=_workload_order):
        codes = by_workload[workload]
        out.append(
            WorkloadCoverage(
                workload=workload,
                codes=tuple(codes),
                with_symptoms=tuple(c for c in codes if c in symptoms),
                with_zh_message=tuple(c for c in codes if c in zh_message),
                zh_prose={s: tuple(c for c in codes if zh_by[c] == s) for s in ZH_SOURCES},
                with_actions=tuple(c for c in codes if c in actions),
            )
        )
    return out


def _workload_order(workload: str) -> tuple[int, str]:
    return (WORKLOADS.index(workload) if workload in WORKLOADS else len(WORKLOADS), workload)


class _Row(Protocol):
    """What ``group_unknown_codes`` reads of a stored unmatched paste (``UnmatchedRow``)."""

    @property
    def unknown_codes(self) -> tuple[str, ...]: ...
    @property
    def source(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def at(self) -> datetime: ...


@dataclass(slots=True)
class UnknownCode:
    """A code the knowledge base lacks: how many pastes showed it, where, when; its family."""

    code: str
    family: str
    count: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    channels: set[str] = field(default_factory=set)
    first_seen: datetime | None = None
    last_seen: datetime | None = None


def group_unknown_codes(
    rows: Iterable[_Row],
    *,
    known: Callable[[str], bool] = lambda _code: False,
    families: Families | None = None,
) -> list[UnknownCode]:
    """Unknown codes grouped case-insensitively and counted per paste, most seen first.

    Codes ``known`` says the knowledge base has since learnt are left out.
    """
    book = families or default_families()
    found: dict[str, UnknownCode] = {}
    spellings: dict[str, Counter[str]] = {}
    for row in rows:
        for code in dict.fromkeys(c.casefold() for c in row.unknown_codes):
            spelt = next(c for c in row.unknown_codes if c.casefold() == code)
            if known(spelt):
                continue
            item = found.setdefault(code, UnknownCode(spelt, book.get(spelt).id))
            spellings.setdefault(code, Counter())[spelt] += 1
            item.count += 1
            item.sources[row.source] += 1
            item.channels.add(row.channel)
            item.first_seen = min(item.first_seen or row.at, row.at)
            item.last_seen = max(item.last_seen or row.at, row.at)
    for key, item in found.items():
        item.code = spellings[key].most_common(1)[0][0]  # the spelling people paste most
    return sorted(found.values(), key=lambda u: (-u.count, u.code.casefold()))
