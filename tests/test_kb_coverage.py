"""``backup-fix kb report``: coverage per workload and the unknown codes pastes showed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.unmatched_store import record_unmatched, unmatched_since
from knowledge import load_kb
from knowledge.answer import compose
from knowledge.coverage import coverage, group_unknown_codes
from knowledge.report import UnmatchedRow, build_report
from store import Store, open_store

KB = load_kb()
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
UNKNOWN = "BMSUserErrorMadeUpForTestsXyz"


def row(*codes: str, source: str = "channel", channel: str = "C1", hours: int = 0) -> UnmatchedRow:
    at = NOW - timedelta(hours=hours)
    return UnmatchedRow("excerpt", "h", None, None, source, channel, at, tuple(codes))


# --- coverage ---------------------------------------------------------------------------------


def test_coverage_counts_every_entry_once_per_workload() -> None:
    found = coverage(KB)
    assert sum(w.entries for w in found) == len(KB.entries)
    for w in found:
        entries = [KB.get(c) for c in w.codes]
        assert all(e is not None and e.workload == w.workload for e in entries)
        assert set(w.with_symptoms) == {e.code for e in entries if e and e.symptoms}
        zh = {e.code for e in entries if e and any(m.lang == "zh-TW" for m in e.messages)}
        assert set(w.with_zh_message) == zh
        assert sorted(c for codes in w.zh_prose.values() for c in codes) == sorted(w.codes)
        for source, codes in w.zh_prose.items():
            assert all(KB.get(c).source.zh == source for c in codes)  # type: ignore[union-attr]
        for code in w.codes:
            answer = compose(KB.get(code), KB, "en")  # type: ignore[arg-type]
            offered = bool(answer.diagnostics or answer.remediations)
            assert (code in w.with_actions) == offered


def test_the_seed_workload_has_zh_tw_from_the_seed_and_actions() -> None:
    vm = next(w for w in coverage(KB) if w.workload == "vm")
    assert "UserErrorRpCollectionLimitReached" in vm.zh_prose["seed"]
    assert "UserErrorRpCollectionLimitReached" in vm.with_zh_message
    assert "UserErrorRpCollectionLimitReached" in vm.with_actions


# --- unknown codes ----------------------------------------------------------------------------


def test_unknown_codes_are_grouped_case_insensitively_and_counted_per_paste() -> None:
    rows = [
        row(UNKNOWN, UNKNOWN.lower(), channel="C1", hours=3),  # twice in one paste: one paste
        row(UNKNOWN, "SalMadeUpScratch", source="command", channel="C2", hours=1),
        row(UNKNOWN.upper(), channel="C1"),
        row("SalMadeUpScratch"),
        row("UserErrorRpCollectionLimitReached"),  # known by now
        row(),
    ]
    found = group_unknown_codes(rows, known=lambda c: KB.get(c) is not None)
    assert [(u.code, u.count, u.family) for u in found] == [
        (UNKNOWN, 3, "bms-user-error"),
        ("SalMadeUpScratch", 2, "mars"),
    ]
    first = found[0]
    assert dict(first.sources) == {"channel": 2, "command": 1}
    assert first.channels == {"C1", "C2"}
    assert (first.first_seen, first.last_seen) == (NOW - timedelta(hours=3), NOW)


def test_build_report_drops_codes_the_kb_has_learnt() -> None:
    rows = [row("UserErrorRpCollectionLimitReached", UNKNOWN)]
    assert [u.code for u in build_report(NOW, rows, [], kb=KB).unknown] == [UNKNOWN]
    assert len(build_report(NOW, rows, []).unknown) == 2  # without a KB nothing is known
    assert build_report(NOW, rows, []).coverage == ()


# --- the store and the command ----------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


def test_unknown_codes_round_trip_through_the_store(store: Store) -> None:
    codes = [
        UNKNOWN,
        UNKNOWN,
        "SalMadeUp",
        "bad code",
        *[f"UserErrorMadeUp{n:03}" for n in range(60)],
    ]
    record_unmatched(
        store, excerpt="e", digest="d", best=None, source="channel", channel="C1",
        unknown_codes=codes,
    )  # fmt: skip
    (only,) = unmatched_since(store, NOW - timedelta(days=3650))
    assert only.unknown_codes[:2] == (UNKNOWN, "SalMadeUp")  # deduplicated, in order
    assert "bad code" not in " ".join(only.unknown_codes)
    assert len(" ".join(only.unknown_codes)) <= 512  # the column's size


def test_kb_report_lists_unknown_codes_and_coverage_text_and_json(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):
        record_unmatched(
            store, excerpt=f"paste {n} {UNKNOWN}", digest=f"h{n}", best=None, source="channel",
            channel=f"C{n}", unknown_codes=[UNKNOWN],
        )  # fmt: skip
    record_unmatched(
        store, excerpt="CloudMadeUpThrottle", digest="c", best=None, source="command",
        channel="C1", unknown_codes=["CloudMadeUpThrottle"],
    )  # fmt: skip
    monkeypatch.setenv("BACKUP_FIX_DATABASE_URL", str(store.engine.url))
    assert main(["kb", "report", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unknown_codes"][0]["code"] == UNKNOWN
    assert data["unknown_codes"][0]["count"] == 3
    assert data["unknown_codes"][0]["family"] == "bms-user-error"
    assert data["unknown_codes"][0]["channels"] == 3
    assert data["unknown_codes"][1]["code"] == "CloudMadeUpThrottle"
    assert data["coverage"]["entries"] == len(KB.entries)
    by_workload = {w["workload"]: w for w in data["coverage"]["workloads"]}
    expected = coverage(KB)
    assert set(by_workload) == {w.workload for w in expected}
    for w in expected:
        got = by_workload[w.workload]
        assert got["entries"] == w.entries
        assert got["with_symptoms"] == list(w.with_symptoms)
        assert got["with_zh_message"] == list(w.with_zh_message)
        assert got["zh_prose"] == {k: list(v) for k, v in w.zh_prose.items()}
        assert got["with_actions"] == list(w.with_actions)

    assert main(["kb", "report"]) == 0
    out = capsys.readouterr().out
    assert "Unknown codes (pasted, not in the knowledge base): 2" in out
    assert f"3x  {UNKNOWN}  [bms-user-error]  3 channel(s)" in out
    assert f"Knowledge-base coverage: {len(KB.entries)} entries" in out
    vm = next(w for w in expected if w.workload == "vm")
    line = next(x for x in out.splitlines() if x.startswith("  vm ") and x.split()[1].isdigit())
    assert line.split()[1:4] == [
        str(vm.entries),
        str(len(vm.with_symptoms)),
        str(len(vm.with_zh_message)),
    ]
    if vm.with_symptoms:
        assert vm.with_symptoms[0] in out.split("with symptoms", 1)[1]
