"""Error codes in a paste: exact (any case), older spellings, one or two typos, numeric codes."""

from __future__ import annotations

import re

from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.evidence import Evidence, Paste
from knowledge.loader import KnowledgeBase
from knowledge.model import Entry

_CODE_WORD = re.compile(r"[a-z][a-z0-9]{7,99}")
_NUMBER = re.compile(r"\b\d{6}\b")
_CACHE_MAX = 4096

EXACT, ALIAS, TYPO1, TYPO2, NUMERIC = 100.0, 97.0, 94.0, 88.0, 80.0
GENERIC_WITHOUT_CONTEXT = 70.0  # e.g. ResourceNotFound alone: every Azure service says that


class CodeIndex:
    """Every code and alias of the knowledge base, looked up by word."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._codes: dict[str, tuple[Entry, str, str]] = {}
        for entry in kb.entries:
            for code in entry.all_codes:
                self._codes[code.lower()] = (entry, code, "code")
            for alias in entry.aliases:
                self._codes.setdefault(alias.code.lower(), (entry, entry.code, "alias"))
        # Candidates for a typo'd word: codes whose length is within two of it.
        self._near: dict[int, list[str]] = {}
        for low in self._codes:
            for n in range(len(low) - 2, len(low) + 3):
                self._near.setdefault(n, []).append(low)
        self._numeric = {str(n): e for e in kb.entries for n in e.numeric_codes}
        self._cache: dict[str, list[tuple[str, int]]] = {}

    def evidence(self, paste: Paste) -> list[Evidence]:
        """Every code-like word of the paste that names a known error."""
        found: list[Evidence] = []
        for m in _CODE_WORD.finditer(paste.low):
            word = m.group()
            hit = self._codes.get(word)
            if hit is not None:
                entry, code, via = hit
                score = EXACT if via == "code" else ALIAS
                if entry.generic and not paste.context:
                    score = GENERIC_WITHOUT_CONTEXT
                found.append(Evidence(entry, code, via, score, m.span()))
            elif len(word) >= 10:
                for near, dist in self._typos(word):
                    entry, code, _ = self._codes[near]
                    score = TYPO1 if dist == 1 else TYPO2
                    if entry.generic and not paste.context:
                        score -= 25
                    found.append(Evidence(entry, code, "fuzzy_code", score, m.span()))
        if paste.context and self._numeric:
            for m in _NUMBER.finditer(paste.low):
                numbered = self._numeric.get(m.group())
                if numbered is not None:
                    found.append(
                        Evidence(numbered, numbered.code, "numeric_code", NUMERIC, m.span())
                    )
        return found

    def _typos(self, word: str) -> list[tuple[str, int]]:
        """Codes within one typo (short words) or two (from 14 letters), nearest first."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        max_dist = 1 if len(word) < 14 else 2
        choices = self._near.get(len(word), [])
        hits = process.extract(word, choices, scorer=OSA.distance, score_cutoff=max_dist, limit=2)
        result = [(choice, int(dist)) for choice, dist, _ in hits]
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[word] = result
        return result
