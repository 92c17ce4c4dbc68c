"""Recognise an error from how people describe it, when they have no code or message to paste.

Each entry's own knowledge (its codes' words, title, messages, symptoms, summary and causes, in
English and zh-TW) becomes one document of a BM25 index: a paste's words that few entries share
count most, words many entries share count little. Operators' shorthand is folded first, on
both sides ("rg" and "resource group", "保存庫" and "vault"), so a question meets the entry whose
knowledge it paraphrases. The entries of the workload a paste names get the edge; those of
another database or agent the paste does not name fall back.

This is the weakest evidence the matcher has (codes > messages > symptoms > descriptions): when
its winner may answer unasked is ``knowledge/description_bar.py``'s to say.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from knowledge.entry_words import fields, of_restores, said, speaks_of_restore
from knowledge.evidence import Paste
from knowledge.loader import KnowledgeBase
from knowledge.model import Entry
from knowledge.signals import workloads
from knowledge.wording import (
    WORKLOAD_NAMES,
    backupish,
    code_words,
    comparable,
    context,
    describes,
    fold,
    opaque_spans,
    trouble,
    words,
)

__all__ = ["DescriptionIndex", "Reading", "describes"]

MAX_CHARS = 3000  # people describe an error in a few lines; a long log is no description
K1, B = 1.2, 0.5  # BM25: a word's repeats saturate fast; long entries are damped a little
COMMON_SHARE = 0.25  # a word in more than a quarter of the entries ("backup", "fail") is skipped
RARE_IDF = 1.9  # a rare word: in fewer than about one entry in seven
WORKLOAD_FIT = 1.3  # the entry's workload is the one the paste names
WORKLOAD_OTHER = 0.5  # the entry belongs to another database or agent than the one named
TWIN_SHARE = 0.6  # codes sharing this share of their words are near-twins, not rivals
TWIN_TIE = 0.85  # a twin this close to the winner is told apart by the words of its code
SPECIFIC_TIE = 0.5  # ... and the general twin of a specific winner, this close
MAX_LEAD = 10.0  # the lead of a winner without rivals
# A paste that names no workload is about a VM more often than not (VMs are most of what
# Azure Backup protects): between twins of a VM and a workload entry, the VM one is answered.
VM_PRIOR = 0.5
FIELDS = (("code", 2.0), ("title", 2.0), ("message", 1.5), ("symptom", 1.5), ("summary", 1.0))
HEADLINE_FIELDS = frozenset({"code", "title", "message", "symptom"})
CAUSE_WEIGHT = 1.0

# Workloads with words of their own: naming another one makes an entry of these unlikely.
_OWN = frozenset(
    {
        *("sql", "sap-hana", "sap-ase", "mars", "mabs-dpm", "system-state", "azure-files"),
        *("blob", "adls", "disk", "aks", "postgresql", "mysql"),
    }
)


@dataclass(frozen=True, slots=True)
class Reading:
    """The entries a paste describes best, and how sure the winner is."""

    ranked: list[tuple[Entry, float]]
    lead: float  # the winner's score over the best runner-up that is not its kin
    rare: int  # distinct rare words of the paste the winner holds
    span: tuple[int, int]  # from the first to the last of those words in the paste
    context: bool  # the paste speaks of Azure Backup (see ``context``)
    backupish: bool  # the paste speaks of a backup, a restore, a vault or a workload
    named: frozenset[str]  # the workloads the paste names
    trouble: bool  # the paste says something went wrong
    untold: bool  # a near-tied twin of the winner that the paste does not tell apart
    rare_words: frozenset[str]  # the paste's rare words (held by any entry)
    restore: bool = True  # the paste speaks of a restore or recovery


class DescriptionIndex:
    """Every entry's own words, indexed for BM25 scoring of a paste."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.entries = list(kb.entries)
        docs: list[dict[str, float]] = []
        # An entry documented for several workloads names them in its own text (a PostgreSQL
        # entry that says "PostgreSQL or MySQL"): each of them fits it.
        self.fits: list[frozenset[str]] = []
        for entry in self.entries:
            tf: dict[str, float] = {}
            texts = fields(entry, kb.sections)
            own = " ".join(t for ts in texts.values() for t in ts).lower()
            self.fits.append(frozenset({entry.workload, *workloads(own, named=True)}))
            for field, weight in [*FIELDS, ("cause", CAUSE_WEIGHT)]:
                for text in texts[field]:
                    for w in code_words(text) if field == "code" else words(text):
                        tf[w] = tf.get(w, 0.0) + weight
            docs.append(tf)
        n = len(docs)
        df: dict[str, int] = {}
        for tf in docs:
            for w in tf:
                df[w] = df.get(w, 0) + 1
        self.idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}
        common = max(2, int(COMMON_SHARE * n))
        avg = sum(sum(tf.values()) for tf in docs) / max(1, n)
        # Each word's postings: (entry, the word's BM25 weight in that entry). Words most
        # entries share weigh next to nothing and would only make the postings long.
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for i, tf in enumerate(docs):
            norm = K1 * (1 - B + B * sum(tf.values()) / avg)
            for w, f in tf.items():
                if df[w] <= common:
                    self.postings.setdefault(w, []).append((i, f * (K1 + 1) / (f + norm)))
        self.restores = [of_restores(e) for e in self.entries]
        self.code_lists = [Counter(code_words(e.code)) for e in self.entries]
        self.code_sets = [frozenset(c) for c in self.code_lists]
        self.index = {e.code: i for i, e in enumerate(self.entries)}

    def read(self, paste: Paste, *, top: int = 6) -> Reading | None:
        """The entries the paste describes best, or None when it shares no rare word with any."""
        if len(paste.low) > MAX_CHARS:
            return None
        folded, found = fold(paste.low)
        present = {w for w, _, _ in found}
        named = workloads(folded, named=True)
        scores: dict[int, float] = {}
        hits: dict[int, list[str]] = {}
        where: dict[str, tuple[int, int]] = {}
        opaque = opaque_spans(paste.low)  # before folding: it spaces out words inside ids
        for w, start, end in found:
            if w in where or not comparable(w) or w in WORKLOAD_NAMES:
                continue
            if opaque and any(a <= start < b for a, b in opaque):
                continue  # a word of a resource id, URL or GUID
            where[w] = (start, end)
            idf = self.idf.get(w, 0.0)
            for i, weight in self.postings.get(w, ()):
                scores[i] = scores.get(i, 0.0) + idf * weight
                hits.setdefault(i, []).append(w)
        if not scores:
            return None
        for i in scores:
            if self.fits[i] & named:
                scores[i] *= WORKLOAD_FIT
            elif named and self.entries[i].workload in _OWN:
                scores[i] *= WORKLOAD_OTHER
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        ranked, untold = self._twins(ranked, present, named)
        best, s1 = ranked[0]
        rival = next((s for i, s in ranked[1:] if not self.kin(best, i)), 0.0)
        lead = s1 / rival if rival else MAX_LEAD
        matched = hits[best]
        rare = sum(self.idf[w] >= RARE_IDF for w in matched)
        rare_words = frozenset(w for w in where if self.idf.get(w, 0.0) >= RARE_IDF)
        spans = [where[w] for w in matched]
        span = (min(s for s, _ in spans), max(e for _, e in spans))
        return Reading(
            [(self.entries[i], s) for i, s in ranked[:top]],
            min(lead, MAX_LEAD),
            rare,
            span,
            context(paste.low, present, named),
            backupish(paste.low, present) or bool(named),
            named,
            trouble(paste.low, present),
            untold,
            rare_words,
            speaks_of_restore(paste.low),
        )

    def _twins(
        self, ranked: list[tuple[int, float]], present: set[str], named: frozenset[str]
    ) -> tuple[list[tuple[int, float]], bool]:
        """Near-tied twins (``...DuringBackup`` / ``...DuringRestore``) told apart by the words
        their codes do not share, common ones included, then by workload; and whether a twin
        stays untold (then both are suggested: a wrong answer is worse than none)."""
        best, s1 = ranked[0]
        untold = False
        for j, (other, s) in enumerate(ranked[1:4], start=1):
            # A specific twin outscores its general one by the very words it adds (its code
            # is the other's plus words): those words decide, however far ahead it is.
            specific = self.code_sets[other] < self.code_sets[best]
            if s < (SPECIFIC_TIE if specific else TWIN_TIE) * s1 or not self.kin(best, other):
                continue
            if specific and self._refines(best, other):
                mine, theirs = 0.0, 1.0
            else:
                mine, theirs = said(self.code_lists[best], self.code_lists[other], present)
            if theirs == mine:
                mine, theirs = self._workload_fit(best, named), self._workload_fit(other, named)
            if theirs > mine:
                ranked = [ranked[j], *ranked[:j], *ranked[j + 1 :]]
                return [(i, s1 if k == 0 else s) for k, (i, s) in enumerate(ranked)], False
            untold |= theirs == mine
        return ranked, untold

    def headline(self, i: int) -> frozenset[str]:
        """The words entry ``i`` names its error by (its codes, title, messages and symptoms), as
        against those that explain it (summary, causes). Read when asked: only a description's
        winner needs them, and a set per entry would weigh on a large knowledge base."""
        texts = fields(self.entries[i], {})
        return frozenset(
            w
            for field in HEADLINE_FIELDS
            for text in texts[field]
            for w in (code_words(text) if field == "code" else words(text))
        )

    def _refines(self, a: int, b: int) -> bool:
        """Entry ``a`` is a community-sourced refinement of the documented ``b``: a description
        answers with the error the articles give for that cause, and suggests the refinement
        (its code or message in the paste still answers with it)."""
        return self.entries[a].source.kind == "community" and self.entries[b].source.kind == "docs"

    def _workload_fit(self, i: int, named: frozenset[str]) -> float:
        """1 for an entry of the workload the paste names, 0.5 for a VM entry when the paste
        names none (VM_PRIOR), else 0."""
        if named:
            return float(bool(self.fits[i] & named))
        return VM_PRIOR if self.entries[i].workload == "vm" else 0.0

    def _related(self, a: int, b: int) -> bool:
        ea, eb = self.entries[a], self.entries[b]
        return ea.code in eb.related or eb.code in ea.related

    def fit(self, entry: Entry) -> frozenset[str]:
        """The workloads an entry is documented for: its own and those its text names."""
        i = self.index.get(entry.code)
        return self.fits[i] if i is not None else frozenset({entry.workload})

    def fits_named(self, i: int, named: frozenset[str]) -> bool:
        """The entry is of a workload the paste names, or of none that it would exclude."""
        return not named or bool(self.fits[i] & named) or self.entries[i].workload not in _OWN

    def kin(self, a: int, b: int) -> bool:
        """Related entries and near-twins (codes sharing most words) are not rivals."""
        if self._related(a, b):
            return True
        sa, sb = self.code_sets[a], self.code_sets[b]
        return len(sa & sb) >= TWIN_SHARE * len(sa | sb)
