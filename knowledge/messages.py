"""Error messages in a paste: whole, reworded, or partly copied, in English or zh-TW.

Candidates come from word pairs: a message becomes one only when the paste holds two of its
adjacent word pairs (one for very short messages). Real copies keep most pairs; chatter that
merely shares vocabulary ("the backup failed") rarely holds two, and a pair's postings are short
even in a knowledge base of thousands of messages. A candidate then needs half of its word weight
(rare words weigh more) and is verified two ways; the better counts:

* rapidfuzz aligns the whole message with the paste, blended with the weight share present;
* the heaviest run of the message's words the paste holds in order (a partial copy).

In a long paste (a log) both look where the message's pairs sit densest, not at the first
look-alike: retry lines early in a log share most of a message's words, the copy at its end all.
Symptoms (what people paste that is not the official message) are indexed the same way and come
back as weaker evidence: alone they suggest, with Azure Backup context they may answer.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import fuzz

from knowledge.evidence import Evidence, Paste
from knowledge.loader import KnowledgeBase
from knowledge.model import Entry
from knowledge.text import STOPWORDS, clean, idf, terms

MIN_COVERAGE = 0.5  # share of a message's word weight a paste must hold to be verified
MIN_RUN_SHARE = 0.5  # share a partial copy must hold
PAIR_SHARE = 0.4  # a candidate shares this share of a message's word pairs (at least 2)
MAX_VERIFIED = 16  # candidates verified per paste, best-sharing first
COMMON_PAIR_SHARE = 0.02  # a pair in more than this share of messages is too common to count...
COMMON_PAIR_MIN = 50  # ... once it is in at least this many
MIN_RUN_WORDS = 3  # "was not found" is not a copy of "An Azure virtual machine wasn't found"
WHOLE_RUN = 0.98  # a run holding this share of a message's weight is the whole message
PARTIAL_MAX = 94.0  # a partial copy scores at most this (a whole one of another: 100)
SHORT_RUN_MAX = 80.0  # ... and three words in a row ("VM was not found") only suggest
WINDOWS = 3  # places of a long paste verified per candidate, densest first
SYMPTOM_COVERAGE = 0.7  # a symptom is short: most of it must be there...
SYMPTOM_RUN_SHARE = 0.75  # ... and a partial copy of it must hold most of its weight
SYMPTOM_ALONE = 80.0  # a symptom without backup context: at most a "did you mean"
SYMPTOM_BACKED = 90.0  # with backup context (or a job, a restore, a resource id): may answer

Term = tuple[str, int, int]
_NEGATIONS = frozenset({"not", "no", "never", "cannot", "unable", "without", "nor"})
_MARS_ID = re.compile(r"\s\((?:ID|Error ID|error code)[:\s]", re.IGNORECASE)


def content(term: str) -> bool:
    """True for a word that carries meaning (not a stopword, not a lone letter)."""
    return term not in STOPWORDS and (len(term) > 1 or term.isdigit())


def pairs(seq: list[str]) -> set[str]:
    """Adjacent pairs of meaningful words, stopwords skipped."""
    words = [t for t in seq if content(t)]
    return {f"{a} {b}" for a, b in pairwise(words)}


@dataclass(slots=True)
class _Message:
    entry: Entry
    code: str
    low: str
    weights: dict[str, float]
    total: float
    anchors: list[str]  # words, rarest first
    seq: list[str]  # words in order, stopwords kept, for partial copies; [] for none
    keys: frozenset[str]  # its adjacent word pairs (a one-word message: that word)
    need: int  # pairs a paste must share to make this a candidate
    length: int  # words, stopwords included: the width of a window in a long paste
    symptom: bool  # a symptom, not a message: weaker evidence
    negated: dict[str, str]  # its pairs that negate a word, and that word ("not run": "run")
    weak: bool = False  # a message that cannot name its error alone (see Message.weak)


class MessageIndex:
    """Every message of the knowledge base, indexed by word pairs."""

    def __init__(self, kb: KnowledgeBase) -> None:
        raw: list[tuple[Entry, str, str, bool, bool]] = []
        weak: set[int] = set()  # indices in ``raw`` of weak messages
        for entry in kb.entries:
            for msg in entry.messages:
                text = clean(msg.text)
                # "<message> - <advice>": the service often prints only the first part, and the
                # advice ("Retry the operation in a few minutes...") is boilerplate shared by
                # many errors, so partial copies are looked for in the first part only.
                head = text.split(" - ", 1)[0]
                # MARS and DPM print "<message> (ID: 100050) <advice>": the same two parts.
                head = _MARS_ID.split(head, 1)[0].rstrip()
                first = len(raw)
                raw.append((entry, msg.code or entry.code, text, head == text, False))
                if head != text and len(head) >= 20:
                    raw.append((entry, msg.code or entry.code, head, True, False))
                if msg.weak:
                    weak.update(range(first, len(raw)))
            for sym in entry.symptoms:
                raw.append((entry, entry.code, clean(sym.text), True, True))
        seqs = [[t for t, _, _ in terms(text.lower())] for _, _, text, _, _ in raw]
        # Word weights come from the messages alone: symptoms repeat the messages' words in
        # other forms and would make them look common.
        n_messages = sum(not r[4] for r in raw)
        df: dict[str, int] = {}
        for seq, r in zip(seqs, raw, strict=True):
            if not r[4]:
                for word in {t for t in seq if content(t)}:
                    df[word] = df.get(word, 0) + 1
        keys = [pairs(seq) or {t for t in seq if content(t)} for seq in seqs]
        pair_df: dict[str, int] = {}
        for ks in keys:
            for k in ks:
                pair_df[k] = pair_df.get(k, 0) + 1
        # Pairs in very many messages ("operation failed") tell none apart: they don't count.
        common = max(COMMON_PAIR_MIN, COMMON_PAIR_SHARE * len(raw))
        self._messages: list[_Message] = []
        self._postings: dict[str, list[int]] = {}
        for i, ((entry, code, text, runs, symptom), seq, all_ks) in enumerate(
            zip(raw, seqs, keys, strict=True)
        ):
            rarest = sorted(all_ks, key=lambda k: (pair_df[k], k))
            ks = {k for k in rarest if pair_df[k] < common} or set(rarest[:1])
            weights = {t: idf(df.get(t, 0), n_messages) for t in seq if content(t)}
            need = max(min(2, len(ks)), int(PAIR_SHARE * len(ks)))
            # Prefix filtering: a paste sharing ``need`` of the pairs shares at least one of the
            # ``len - need + 1`` rarest, so only those are indexed and postings stay short.
            for key in sorted(ks, key=lambda k: (pair_df[k], k))[: len(ks) - need + 1]:
                self._postings.setdefault(key, []).append(i)
            anchors = sorted(weights, key=lambda t: (-weights[t], t))
            self._messages.append(
                _Message(
                    entry,
                    code,
                    text.lower(),
                    weights,
                    sum(weights.values()),
                    anchors,
                    seq if runs else [],
                    frozenset(ks),
                    need,
                    len(seq),
                    symptom,
                    _negated(all_ks),
                    i in weak,
                )
            )

    def __len__(self) -> int:
        return len(self._messages)

    def evidence(self, paste: Paste) -> list[Evidence]:
        """Every message the paste shows, whole or in part, with its score and span."""
        keys = pairs([t for t, _, _ in paste.terms]) | paste.words
        hits: set[int] = set()
        for key in keys:
            hits.update(self._postings.get(key, ()))
        ranked: list[tuple[float, int]] = []
        for i in hits:
            msg = self._messages[i]
            shared = len(msg.keys & keys)
            if shared >= msg.need and not _contradicts(msg, keys, paste.words):
                ranked.append((shared / len(msg.keys), i))
        # In a knowledge base of near-identical messages a paste may qualify hundreds; the ones
        # holding most of their word pairs are the only ones that can win, so they go first.
        ranked.sort(reverse=True)
        # Long pastes are searched for these candidates' pairs only (see _windows).
        paste.wanted = {k for _, i in ranked[: 2 * MAX_VERIFIED] for k in self._messages[i].keys}
        found: list[Evidence] = []
        verified = 0
        for _, i in ranked:
            msg = self._messages[i]
            have = sum(w for t, w in msg.weights.items() if t in paste.words)
            coverage = have / msg.total if msg.total else 0.0
            if coverage < (SYMPTOM_COVERAGE if msg.symptom else MIN_COVERAGE):
                continue
            result = _verify(msg, paste, coverage)
            if result is not None:
                score, span = result
                if msg.weak and not _beside_code(msg.entry, paste.low):
                    if not (paste.context and paste.support):
                        continue  # "Access Is Denied" alone names nothing
                    score = min(score, SYMPTOM_BACKED)
                if msg.symptom:
                    backed = paste.context or paste.support
                    score = min(score, SYMPTOM_BACKED if backed else SYMPTOM_ALONE)
                via = "symptom" if msg.symptom else "message"
                found.append(Evidence(msg.entry, msg.code, via, score, span))
            verified += 1
            if verified == MAX_VERIFIED:
                break
        return found


def _negated(keys: set[str]) -> dict[str, str]:
    """The pairs that negate a word ("not run"), with the word negated."""
    out = {}
    for key in keys:
        first, _, second = key.partition(" ")
        if second and first in _NEGATIONS:
            out[key] = second
    return out


def _contradicts(msg: _Message, keys: set[str], words: set[str]) -> bool:
    """The paste says what the message negates, without the negation: "re-run the
    pre-registration script" is no reading of "Pre-registration script not run."."""
    if not msg.negated or any(k in keys for k in msg.negated):
        return False
    return any(w in words for w in msg.negated.values())


def _beside_code(entry: Entry, low: str) -> bool:
    """True when the lower-cased paste shows one of the entry's codes (a weak message's anchor)."""
    codes = [*entry.all_codes, *(a.code for a in entry.aliases), *map(str, entry.numeric_codes)]
    return any(code.lower() in low for code in codes)


def _verify(msg: _Message, paste: Paste, coverage: float) -> tuple[float, tuple[int, int]] | None:
    """Score a candidate against the paste: (0-100, the span it matched)."""
    low, size = paste.low, len(msg.low)
    windowed = len(low) > 4 * size + 100
    if windowed:
        starts, width = _windows(msg, paste, size), 2 * size + 40
        if paste.offsets is None:  # computed once per paste, shared by its candidates
            paste.offsets = [t[1] for t in paste.terms]
    else:
        starts, width = [0], len(low)
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
        if msg.seq:
            if paste.offsets is not None and windowed:
                lo = bisect.bisect_left(paste.offsets, start)
                hi = bisect.bisect_left(paste.offsets, start + width)
                window_terms = paste.terms[lo:hi]
                run = _run(msg, window_terms, where_is(window_terms), low)
            else:
                if paste.where is None:  # computed once per paste, shared by its candidates
                    paste.where = where_is(paste.terms)
                run = _run(msg, paste.terms, paste.where, low)
            if run is not None and (best is None or run[0] > best[0]):
                best = run
    return best


def _windows(msg: _Message, paste: Paste, size: int) -> list[int]:
    """Where to look in a long paste: where most of the message's word pairs sit together."""
    if paste.pairs_at is None:  # computed once per paste, shared by its candidates
        paste.pairs_at = pair_positions(paste.terms, paste.wanted or set(msg.keys))
    events = sorted((pos, key) for key in msg.keys for pos in paste.pairs_at.get(key, ()))
    width = msg.length + 4  # a copy spans the message's words, give or take a few
    counts: dict[str, int] = {}
    ranked: list[tuple[int, int, int]] = []  # (-distinct pairs, -first position, first event)
    lo = 0
    for pos, key in events:
        counts[key] = counts.get(key, 0) + 1
        while events[lo][0] <= pos - width:
            old = events[lo][1]
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
            lo += 1
        ranked.append((-len(counts), -events[lo][0], lo))
    ranked.sort()
    starts: list[int] = []
    taken: list[int] = []
    for _, _, lo in ranked:
        first = events[lo][0]
        if all(abs(first - t) >= width for t in taken):
            taken.append(first)
            starts.append(max(0, paste.terms[first][1] - size // 2))
            if len(starts) == WINDOWS:
                break
    return starts


def pair_positions(seq: list[Term], wanted: set[str]) -> dict[str, list[int]]:
    """Where each wanted pair of adjacent meaningful words (or wanted word) starts in the paste."""
    words = {w for key in wanted for w in key.split(" ")}
    where: dict[str, list[int]] = {}
    prev, prev_j = "", -1
    for j, (term, _, _) in enumerate(seq):
        if term in STOPWORDS or (len(term) == 1 and not term.isdigit()):
            continue
        if term in words:
            if term in wanted:
                where.setdefault(term, []).append(j)
            if prev in words and (key := f"{prev} {term}") in wanted:
                where.setdefault(key, []).append(prev_j)
        prev, prev_j = term, j
    return where


def where_is(window: list[Term]) -> dict[str, list[int]]:
    """Each word's positions in the window."""
    where: dict[str, list[int]] = {}
    for j, (term, _, _) in enumerate(window):
        where.setdefault(term, []).append(j)
    return where


def _run(
    msg: _Message, window: list[Term], where: dict[str, list[int]], low: str
) -> tuple[float, tuple[int, int]] | None:
    """The heaviest run of the message's words found in order in the window, scored 0-100."""
    best, best_end, best_len, best_words, best_start = 0.0, -1, 0, 0, 0
    prev: dict[int, tuple[float, int, int]] = {}
    for i, term in enumerate(msg.seq):
        weight = msg.weights.get(term, 0.0)
        cur: dict[int, tuple[float, int, int]] = {}
        for j in where.get(term, ()):
            acc, length, words = prev.get(j - 1, (0.0, 0, 0))
            cur[j] = (acc + weight, length + 1, words + (weight > 0))
            if acc + weight > best:
                best, best_end, best_len, best_words = acc + weight, j, length + 1, cur[j][2]
                best_start = i - length
        prev = cur
    share = best / msg.total if msg.total else 0.0
    if share < (SYMPTOM_RUN_SHARE if msg.symptom else MIN_RUN_SHARE) or best_words < MIN_RUN_WORDS:
        return None
    whole = share >= WHOLE_RUN
    # A long run in order is strong evidence even when the copy left out a rare word.
    share += 0.1 * (best_words >= 5) + 0.05 * (best_words >= 8)
    score = 100 * min(1.0, 0.55 + 0.5 * share)
    if not whole:  # part of a message: below a whole copy of another, by a clear margin...
        # ... and three words are a hint ("VM was not found", "Failed to take snapshot" of
        # another product), unless the paste shows it cut the message's start short: "...".
        opening = all(not content(t) for t in msg.seq[:best_start])
        after = low[window[best_end][2] :][:12]  # "... the config for ...": a stopword or two
        elided = "..." in after or "…" in after
        cut = opening and elided
        rarest = set(msg.anchors[:2])
        if not elided and not rarest & set(msg.seq[best_start : best_start + best_len]):
            return None  # none of the message's rarest words: a look-alike (a product's name)
        short = best_words <= MIN_RUN_WORDS and not cut
        score = min(score, SHORT_RUN_MAX if short else PARTIAL_MAX)
    first = window[best_end - best_len + 1][1]
    return score, (first, window[best_end][2])
