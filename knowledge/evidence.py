"""Evidence that a paste shows an error, tied to the part of the paste it comes from."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.model import Entry


@dataclass(slots=True)
class Evidence:
    """One reading of part of a paste: which entry, which code, how sure, where."""

    entry: Entry
    code: str
    # "code", "alias", "fuzzy_code", "truncated_code", "numeric_code", "message" or "symptom"
    via: str
    score: float
    span: tuple[int, int]
    margin: float = 100.0
    extra: list[Evidence] = field(default_factory=list)


@dataclass(slots=True)
class Paste:
    """A paste prepared once for every index: display text, lower case, words with spans."""

    disp: str
    low: str
    terms: list[tuple[str, int, int]]  # stemmed words in order, stopwords kept
    words: set[str]  # the comparable words (no stopwords)
    context: bool  # mentions Azure Backup (vault, backup, VMSnapshot, MARS...)
    support: bool = False  # mentions a job, a restore or an Azure resource id
    where: dict[str, list[int]] | None = None  # each word's positions in ``terms``, on demand
    pairs_at: dict[str, list[int]] | None = None  # each wanted word pair's positions, on demand
    wanted: set[str] | None = None  # the word pairs of the messages verified against it
    offsets: list[int] | None = None  # where each of ``terms`` starts, on demand


def inside(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Span ``a`` lies within ``b`` and covers at most three quarters of it."""
    return b[0] <= a[0] and a[1] <= b[1] and 4 * (a[1] - a[0]) <= 3 * (b[1] - b[0])
