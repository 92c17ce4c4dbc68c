"""Find the Azure Backup errors in a paste of any shape.

Two kinds of evidence, each tied to the part of the paste it comes from:

* codes: every code-like word is looked up exactly (case-insensitive), then within one or two typos
  (optimal string alignment distance, so a swapped pair of letters is one typo);
* messages: words of the paste pick candidate messages through an index of each message's rarest
  words (prefix filtering: a message none of whose rare words occur cannot cover half its weight),
  then rapidfuzz aligns the message with the paste and the score blends that alignment with the
  share of the message's word weight that is present.

Candidates for the same part of the paste compete: only the best survives, and its margin over
the runner-up is part of the decision to answer unasked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from knowledge.lang import detect_lang
from knowledge.loader import KnowledgeBase, load_kb
from knowledge.model import Entry, Lang
from knowledge.text import MAX_PASTE_BYTES, clean, cut, features, idf, terms

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
]

ANSWER_SCORE = 85  # answer unasked at or above this score ...
ANSWER_MARGIN = 5  # ... when no other reading of the same words comes this close
SUGGEST_SCORE = 55  # "did you mean" suggestions start here

_MIN_COVERAGE = 0.5  # share of a message's word weight a paste must hold to be verified
_MIN_RUN_SHARE = 0.5  # a partial copy must hold this share of the message's word weight
_CODE_WORD = re.compile(r"[a-z][a-z0-9]{7,99}")
_NUMBER = re.compile(r"\b\d{6}\b")
_CONTEXT = frozenset(
    {"backup", "vault", "recoveryservic", "iaasvm", "vmsnapshot", "azurebackuprg", "備份", "保存"}
)
_FUZZY_CACHE_MAX = 4096


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


@dataclass(slots=True)
class _Message:
    entry: Entry
    code: str
    low: str
    weights: dict[str, float]
    total: float
    anchors: list[str]  # features, rarest first
    seq: list[str]  # its words in order, stopwords kept (for partial copies); [] for none


@dataclass(slots=True)
class _Evidence:
    entry: Entry
    code: str
    via: str
    score: float
    span: tuple[int, int]
    margin: float = 100.0
    extra: list[_Evidence] = field(default_factory=list)


class Matcher:
    """The knowledge base's codes and messages, indexed for matching pastes."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._codes: dict[str, tuple[Entry, str, str]] = {}
        for entry in kb.entries:
            for code in entry.all_codes:
                self._codes[code.lower()] = (entry, code, "code")
            for alias in entry.aliases:
                self._codes.setdefault(alias.code.lower(), (entry, entry.code, "alias"))
        self._near: dict[int, list[str]] = {}
        for low in self._codes:
            for n in range(len(low) - 2, len(low) + 3):
                self._near.setdefault(n, []).append(low)
        self._fuzzy_cache: dict[str, list[tuple[str, int]]] = {}
        self._numeric = {str(n): e for e in kb.entries for n in e.numeric_codes}
        self._messages = self._index_messages(kb)
        self._postings: dict[str, list[int]] = {}
        for i, msg in enumerate(self._messages):
            for feat in _prefix(msg):
                self._postings.setdefault(feat, []).append(i)
        self._vocab = frozenset(self._postings)

    @staticmethod
    def _index_messages(kb: KnowledgeBase) -> list[_Message]:
        raw: list[tuple[Entry, str, str, bool]] = []
        for entry in kb.entries:
            for msg in entry.messages:
                text = clean(msg.text)
                # "<message> - <advice>": the service often prints only the first part, and the
                # advice ("Retry the operation in a few minutes...") is boilerplate many errors
                # share, so partial copies are looked for in the first part only.
                head = text.split(" - ", 1)[0]
                raw.append((entry, msg.code or entry.code, text, head == text))
                if head != text and len(head) >= 20:
                    raw.append((entry, msg.code or entry.code, head, True))
        feats = [features(text.lower()) for _, _, text, _ in raw]
        df: dict[str, int] = {}
        for fs in feats:
            for f in fs:
                df[f] = df.get(f, 0) + 1
        out = []
        for (entry, code, text, runs), fs in zip(raw, feats, strict=True):
            weights = {f: idf(df[f], len(raw)) for f in fs}
            anchors = sorted(weights, key=lambda f: (-weights[f], f))
            low = text.lower()
            seq = [t for t, _, _ in terms(low)] if runs else []
            out.append(_Message(entry, code, low, weights, sum(weights.values()), anchors, seq))
        return out

    def match(
        self,
        text: str,
        *,
        limit: int = 5,
        min_score: int = ANSWER_SCORE,
        min_margin: int = ANSWER_MARGIN,
    ) -> list[Match]:
        """The errors in ``text`` scoring at least ``min_score`` with that margin, best first."""
        winners, _ = self._rank(text)
        found = [m for m in winners if m.score >= min_score and m.margin >= min_margin]
        return found[:limit]

    def candidates(
        self, text: str, *, limit: int = 3, min_score: int = SUGGEST_SCORE
    ) -> list[Match]:
        """Every reading of ``text`` at or above ``min_score``, winners and runners-up."""
        winners, losers = self._rank(text)
        ranked = sorted(winners + losers, key=lambda m: -m.score)
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
        winners, losers = self._rank(cut_text)
        matches = [m for m in winners if m.confident]
        taken = {m.entry.code for m in matches}
        rest = sorted(
            (m for m in winners + losers if not m.confident and m.score >= SUGGEST_SCORE),
            key=lambda m: -m.score,
        )
        suggestions: list[Match] = []
        for m in rest:
            if m.entry.code not in taken:
                taken.add(m.entry.code)
                suggestions.append(m)
        return Analysis(matches, suggestions[:3], detect_lang(cut_text), truncated)

    def _rank(self, text: str) -> tuple[list[Match], list[Match]]:
        text, _ = cut(text)
        disp = clean(text)
        low = disp.lower()
        if len(low) != len(disp):  # a few characters change length when lower-cased
            disp = low
        words = features(low)
        context = bool(words & _CONTEXT)
        evidence = self._code_evidence(low, context) + self._message_evidence(low, words)
        return _compete(evidence, disp)

    def _code_evidence(self, low: str, context: bool) -> list[_Evidence]:
        found: list[_Evidence] = []
        for m in _CODE_WORD.finditer(low):
            word = m.group()
            hit = self._codes.get(word)
            if hit is not None:
                entry, code, via = hit
                score = 100.0 if via == "code" else 97.0
                if entry.generic and not context:
                    score = 70.0
                found.append(_Evidence(entry, code, via, score, m.span()))
                continue
            if len(word) < 10:
                continue
            for near, dist in self._fuzzy(word):
                entry, code, _ = self._codes[near]
                score = 94.0 if dist == 1 else 88.0
                if entry.generic and not context:
                    score -= 25
                found.append(_Evidence(entry, code, "fuzzy_code", score, m.span()))
        if context and self._numeric:
            for m in _NUMBER.finditer(low):
                numbered = self._numeric.get(m.group())
                if numbered is not None:
                    found.append(_Evidence(numbered, numbered.code, "numeric_code", 80.0, m.span()))
        return found

    def _fuzzy(self, word: str) -> list[tuple[str, int]]:
        cached = self._fuzzy_cache.get(word)
        if cached is not None:
            return cached
        max_dist = 1 if len(word) < 14 else 2
        choices = self._near.get(len(word), [])
        hits = process.extract(word, choices, scorer=OSA.distance, score_cutoff=max_dist, limit=2)
        result = [(choice, int(dist)) for choice, dist, _ in hits]
        if len(self._fuzzy_cache) >= _FUZZY_CACHE_MAX:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[word] = result
        return result

    def _message_evidence(self, low: str, words: set[str]) -> list[_Evidence]:
        hits = words & self._vocab
        if not hits:
            return []
        candidates: set[int] = set()
        for feat in hits:
            candidates.update(self._postings[feat])
        found = []
        for i in candidates:
            msg = self._messages[i]
            have = sum(w for f, w in msg.weights.items() if f in words)
            coverage = have / msg.total if msg.total else 0.0
            if coverage < _MIN_COVERAGE:
                continue
            verified = _verify(msg, low, words, coverage)
            if verified is not None:
                score, span = verified
                found.append(_Evidence(msg.entry, msg.code, "message", score, span))
        return found


def _prefix(msg: _Message) -> list[str]:
    """The rarest features whose weight exceeds what a message may miss and still be verified."""
    need = (1 - _MIN_COVERAGE) * msg.total
    out, acc = [], 0.0
    for feat in msg.anchors:
        out.append(feat)
        acc += msg.weights[feat]
        if acc > need:
            break
    return out


def _verify(
    msg: _Message, low: str, words: set[str], coverage: float
) -> tuple[float, tuple[int, int]] | None:
    """Score a candidate message against the paste: (0-100, the span it matched).

    Two readings, the better counts: the whole message aligned character by character (tolerates
    small wording differences), blended with the share of its word weight present; and the
    longest run of its words that the paste holds in order (a partial copy of the message).
    """
    size = len(msg.low)
    if len(low) <= 4 * size + 100:
        starts, width = [0], len(low)
    else:
        starts, width = _windows(msg, low, words, size), 4 * size
    best: tuple[float, tuple[int, int]] | None = None
    for start in starts:
        window = low[start : start + width]
        al = fuzz.partial_ratio_alignment(msg.low, window)
        if al is not None:
            score = al.score * (0.4 + 0.6 * coverage)
            if len(window) >= size:
                span = (start + al.dest_start, start + al.dest_end)
            else:
                span = (start, start + len(window))
            if best is None or score > best[0]:
                best = (score, span)
        run = _run(msg, terms(window)) if msg.seq else None
        if run is not None and (best is None or run[0] > best[0]):
            best = (run[0], (start + run[1][0], start + run[1][1]))
    return best


def _windows(msg: _Message, low: str, words: set[str], size: int) -> list[int]:
    """Where to look in a long paste: around the first places its rarest present word occurs."""
    starts: list[int] = []
    for feat in msg.anchors:
        if feat in words:
            pos = low.find(feat)
            while pos != -1 and len(starts) < 6:
                starts.append(max(0, pos - 2 * size))
                pos = low.find(feat, pos + 1)
            break
    return starts


def _run(msg: _Message, window: list[tuple[str, int, int]]) -> tuple[float, tuple[int, int]] | None:
    """The heaviest run of the message's words found in order in the window, scored 0-100."""
    where: dict[str, list[int]] = {}
    for j, (term, _, _) in enumerate(window):
        where.setdefault(term, []).append(j)
    best, best_end, best_len, best_words = 0.0, -1, 0, 0
    prev: dict[int, tuple[float, int, int]] = {}
    for term in msg.seq:
        weight = msg.weights.get(term, 0.0)
        cur: dict[int, tuple[float, int, int]] = {}
        for j in where.get(term, ()):
            acc, length, words = prev.get(j - 1, (0.0, 0, 0))
            cur[j] = (acc + weight, length + 1, words + (weight > 0))
            if acc + weight > best:
                best, best_end, best_len, best_words = acc + weight, j, length + 1, cur[j][2]
        prev = cur
    share = best / msg.total if msg.total else 0.0
    if share < _MIN_RUN_SHARE or best_words < 3:  # "was not found" is not a copy of a message
        return None
    # A long run in order is strong evidence even when the copy left out a rare word.
    share += 0.1 * (best_words >= 5) + 0.05 * (best_words >= 8)
    first = window[best_end - best_len + 1][1]
    return 100 * min(1.0, 0.55 + 0.5 * share), (first, window[best_end][2])


def _compete(evidence: list[_Evidence], disp: str) -> tuple[list[Match], list[Match]]:
    """Merge evidence per entry, let readings of the same words compete, build the matches."""
    per_entry: dict[str, _Evidence] = {}
    for ev in sorted(evidence, key=lambda e: -e.score):
        best = per_entry.get(ev.entry.code)
        if best is None:
            per_entry[ev.entry.code] = ev
        elif not _overlap(best.span, ev.span):
            best.extra.append(ev)
    for ev in per_entry.values():
        if any(x.via != "message" for x in [ev, *ev.extra]) and any(
            x.via == "message" and x.score >= 60 for x in [ev, *ev.extra]
        ):
            ev.score = min(100.0, ev.score + 3)  # code and message agree
            if ev.via == "message":
                ev.code = next(x.code for x in ev.extra if x.via != "message")
    ranked = sorted(per_entry.values(), key=lambda e: (-e.score, e.via != "code", e.entry.code))
    winners: list[_Evidence] = []
    losers: list[_Evidence] = []
    for ev in ranked:
        rival = next((w for w in winners if _overlap(w.span, ev.span)), None)
        if rival is None:
            winners.append(ev)
            continue
        if not _related(rival.entry, ev.entry):  # the same problem told twice is no doubt
            rival.margin = min(rival.margin, rival.score - ev.score)
        ev.margin = ev.score - rival.score
        losers.append(ev)
    seen_codes: set[str] = set()
    out_w = []
    for ev in winners:
        if ev.code not in seen_codes:
            seen_codes.add(ev.code)
            out_w.append(_to_match(ev, disp))
    return out_w, [_to_match(ev, disp) for ev in losers]


def _related(a: Entry, b: Entry) -> bool:
    return b.code in a.related or a.code in b.related


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    shorter = max(1, min(a[1] - a[0], b[1] - b[0]))
    return inter > 0 and inter >= 0.5 * shorter


def _to_match(ev: _Evidence, disp: str) -> Match:
    start, end = ev.span
    excerpt = disp[start:end].strip()
    if len(excerpt) > 300:
        excerpt = excerpt[:299] + "…"
    return Match(ev.code, ev.entry, round(ev.score), ev.via, excerpt, ev.span, round(ev.margin))


@cache
def default_matcher() -> Matcher:
    """The matcher over the shipped knowledge base, built once."""
    return Matcher(load_kb())


def match(
    text: str,
    *,
    limit: int = 5,
    min_score: int = ANSWER_SCORE,
    min_margin: int = ANSWER_MARGIN,
    kb: KnowledgeBase | None = None,
) -> list[Match]:
    """The errors in ``text`` that clear the bar for answering unasked, best first. Pure."""
    matcher = Matcher(kb) if kb is not None else default_matcher()
    return matcher.match(text, limit=limit, min_score=min_score, min_margin=min_margin)


def analyse(text: str, *, kb: KnowledgeBase | None = None) -> Analysis:
    """Matches, suggestions, language and truncation of one paste."""
    matcher = Matcher(kb) if kb is not None else default_matcher()
    return matcher.analyse(text)
