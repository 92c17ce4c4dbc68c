"""Error codes in a paste: exact (any case), older spellings, typos, cut and wrapped codes.

A code is read from the paste's identifiers, in this order:

* exact, case-insensitive, or an older spelling (alias);
* rejoined across a wrapped line (``UserErrorVmProvisioning`` / ``│ StateFailed``);
* within one typo (two from 14 letters) when the typos stay inside its CamelCase words
  (``knowledge/shape.py``): an unknown code that adds, drops or swaps a word is not a typo;
* cut off (a log line that ends mid-word): a prefix of 16 letters or more that only one code
  starts with, unless the prefix itself ends on a failure word (then it may be another code).

An Azure-Backup-shaped identifier that is none of these is an unknown code: listed, never
answered as another code.
"""

from __future__ import annotations

import bisect
import re

from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.evidence import Evidence, Paste
from knowledge.loader import KnowledgeBase
from knowledge.model import Entry
from knowledge.shape import backup_shaped, code_like, ends_on_failure, typo_of, vocabulary

# Identifiers long enough to be a code or the first piece of a wrapped one.
_IDENT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]{5,}")
# The next piece of a wrapped code: a line break, then indentation and box drawing.
_WRAP_START = "\n│┃║|"
_NEXT_PIECE = re.compile(r"[│┃║|]?\n[ │┃║|]*([A-Za-z0-9]+)")
_PIECE_GAP = re.compile(r"[^a-z0-9]+")
_CODE_LABEL = re.compile(r"(?i)(?:code|錯誤碼|错误码|error)\W{0,4}$")
_CACHE_MAX = 4096
MIN_PREFIX = 16  # "UserErrorGuestAg" is one code; "UserErrorGuest" could be several
MAX_PIECES = 3  # a long code wrapped on a narrow terminal spans three lines at most

EXACT, ALIAS, TYPO1, TYPO2, TRUNCATED = 100.0, 97.0, 94.0, 88.0, 90.0
GENERIC_WITHOUT_CONTEXT = 70.0  # e.g. ResourceNotFound alone: every Azure service says that


class CodeIndex:
    """Every code and alias of the knowledge base, looked up by word."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._codes: dict[str, tuple[Entry, str, str]] = {}
        self._spelt: dict[str, str] = {}  # how the knowledge base writes it, for its CamelCase
        for entry in kb.entries:
            for code in entry.all_codes:
                if code[0].isalpha():  # numbers and hexadecimal ids: knowledge/numeric.py
                    self._codes[code.lower()] = (entry, code, "code")
                    self._spelt[code.lower()] = code
            for alias in entry.aliases:
                if alias.code[0].isalpha() and alias.code.lower() not in self._codes:
                    self._codes[alias.code.lower()] = (entry, entry.code, "alias")
                    self._spelt[alias.code.lower()] = alias.code
        self._sorted = sorted(self._codes)
        # Words of the current codes only: an alias is often a misspelling ("Extention").
        self.vocab = vocabulary(c for e in kb.entries for c in e.all_codes if c[0].isalpha())
        # Candidates for a typo'd word: codes whose length is within two of it.
        self._near: dict[int, list[str]] = {}
        for low in self._codes:
            for n in range(len(low) - 2, len(low) + 3):
                self._near.setdefault(n, []).append(low)
        self._cache: dict[str, list[tuple[str, int]]] = {}
        self._shapes: dict[str, tuple[bool, bool]] = {}  # (backup_shaped, code_like) per word

    def read(self, paste: Paste) -> tuple[list[Evidence], list[str]]:
        """Every identifier of the paste that names a known error; the unknown codes, in order."""
        found: list[Evidence] = []
        unknown: list[str] = []
        disp, low = paste.disp, paste.low
        done = 0  # end of the last wrapped code: its pieces are read
        for m in _IDENT.finditer(disp):
            start, end = m.span()
            if start < done:
                continue
            word = low[start:end]
            hit = self._codes.get(word) if end - start >= 8 else None
            if hit is None and end < len(disp) and disp[end] in _WRAP_START:
                done = self._wrapped(paste, start, end)
                if done:
                    joined = _PIECE_GAP.sub("", low[start:done])
                    found.append(self._exact(joined, (start, done), paste))
                    continue
            if hit is not None:
                found.append(self._exact(word, (start, end), paste))
            elif end - start >= 10:
                read = self._inexact(disp[start:end], (start, end), paste)
                if read:
                    found += read
                elif disp[start:end] not in unknown and self._unknown(disp, start, end, paste):
                    unknown.append(disp[start:end])
        return found, unknown

    def _unknown(self, disp: str, start: int, end: int, paste: Paste) -> bool:
        """An Azure Backup code the knowledge base does not know: by its family, or by its
        words where a code stands (``Code="..."``, ``錯誤碼 ...``) or beside Azure Backup words."""
        word = disp[start:end]
        shape = self._shapes.get(word)
        if shape is None:  # JSON keys and PowerShell properties come back paste after paste
            if len(self._shapes) >= _CACHE_MAX:
                self._shapes.clear()
            shape = self._shapes[word] = (
                backup_shaped(word, self.vocab),
                code_like(word, self.vocab),
            )
        if shape[0]:
            return True
        if not shape[1]:
            return False
        return paste.context or _CODE_LABEL.search(disp, max(0, start - 24), start) is not None

    def _exact(self, word: str, span: tuple[int, int], paste: Paste) -> Evidence:
        entry, code, via = self._codes[word]
        score = EXACT if via == "code" else ALIAS
        if entry.generic and not paste.context:
            score = GENERIC_WITHOUT_CONTEXT
        return Evidence(entry, code, via, score, span)

    def _wrapped(self, paste: Paste, start: int, end: int) -> int:
        """Where a code wrapped across lines that starts at ``start`` ends, else 0."""
        joined = paste.low[start:end]
        for _ in range(MAX_PIECES - 1):
            m = _NEXT_PIECE.match(paste.disp, end)
            if m is None:
                break
            joined += paste.low[m.start(1) : m.end(1)]
            end = m.end(1)
            if joined in self._codes:
                return end
        return 0

    def _inexact(self, word: str, span: tuple[int, int], paste: Paste) -> list[Evidence]:
        """A typo'd or cut-off code: evidence for it, or nothing."""
        found: list[Evidence] = []
        for near, dist in self._typos(word.lower()):
            if not typo_of(self._spelt[near], word, self.vocab):
                continue
            entry, code, _ = self._codes[near]
            score = TYPO1 if dist == 1 else TYPO2
            if entry.generic and not paste.context:
                score -= 25
            found.append(Evidence(entry, code, "fuzzy_code", score, span))
        if not found:
            hit = self._cut(word.lower())
            if hit is not None:
                entry, code, _ = self._codes[hit]
                score = TRUNCATED - (25 if entry.generic and not paste.context else 0)
                found.append(Evidence(entry, code, "truncated_code", score, span))
        return found

    def _cut(self, word: str) -> str | None:
        """The one code that ``word`` is the start of (a line cut mid-code), if there is one."""
        if len(word) < MIN_PREFIX:
            return None
        i = bisect.bisect_left(self._sorted, word)
        starting: list[str] = []
        while i < len(self._sorted) and self._sorted[i].startswith(word) and len(starting) < 4:
            starting.append(self._sorted[i])
            i += 1
        entries = {id(self._codes[s][0]) for s in starting}
        if len(entries) != 1:
            return None
        full = starting[0]
        if ends_on_failure(self._spelt[full], len(word)):
            return None  # "...VmNotFound" may be a code of its own, not a cut one
        return full

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
