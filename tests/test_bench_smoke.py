"""The benchmark inputs are valid: a small synthetic KB validates and the matcher runs on it."""

from __future__ import annotations

from bench.pastes import LONG_BYTES, TYPICAL_MAX_BYTES, chat_lines, long_pastes, typical_pastes
from bench.synthetic import synthetic_kb
from knowledge.loader import load_kb
from knowledge.matcher import Matcher
from knowledge.model import Entry


def test_synthetic_kb_is_valid_and_includes_the_real_entries() -> None:
    real = load_kb()
    kb = synthetic_kb(len(real.entries) + 20)
    assert len(kb.entries) == len(real.entries) + 20
    assert {e.code for e in real.entries} <= {e.code for e in kb.entries}
    codes = [e.code.casefold() for e in kb.entries]
    assert len(codes) == len(set(codes))
    made = [m.text for e in kb.entries[len(real.entries) :] for m in e.messages]
    assert len(made) == len(set(made))  # no two synthetic entries share a message
    for entry in kb.entries:
        Entry.model_validate(entry.model_dump(by_alias=True))  # round-trips through validation
        assert kb.get(entry.code) is entry
        assert kb.articles.keys() >= {d.article for d in entry.docs}
        assert {m.lang for m in entry.messages} >= {"en"}


def test_synthetic_kb_is_deterministic() -> None:
    size = len(load_kb().entries) + 10  # some synthetic entries beyond the real ones
    assert synthetic_kb(size, seed=3).codes() == synthetic_kb(size, seed=3).codes()
    assert synthetic_kb(size, seed=3).codes() != synthetic_kb(size, seed=4).codes()


def test_matcher_runs_on_a_synthetic_kb_and_finds_a_pasted_code() -> None:
    kb = synthetic_kb(len(load_kb().entries) + 5)
    matcher = Matcher(kb)
    entry = kb.entries[-1]  # a synthetic one
    found = matcher.match(f"backup failed with {entry.code} again")
    assert entry.code in [m.code for m in found]
    for paste in [*typical_pastes(kb, count=12), *long_pastes(kb, count=1)]:
        assert isinstance(matcher.match(paste.text), list)


def test_pastes_have_the_promised_sizes_and_chat_lines_are_distinct() -> None:
    kb = synthetic_kb(50)
    assert all(len(p.text.encode()) <= TYPICAL_MAX_BYTES for p in typical_pastes(kb, count=30))
    assert all(
        LONG_BYTES - 500 < len(p.text.encode()) <= LONG_BYTES for p in long_pastes(kb, count=2)
    )
    lines = chat_lines(500)
    assert len(set(lines)) == 500
