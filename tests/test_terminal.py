"""The terminal: `diagnose` wrapped by display width in the reader's language, with readable action
labels; `audit` and `kb report` on an empty store say so and create nothing (issue 11)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from actions.ledger import Ledger
from actions.names import DIAGNOSTICS, REMEDIATIONS, action_label
from bot.cli import main
from bot.unmatched_store import record_unmatched
from knowledge.answer import compose
from knowledge.matcher import analyse, default_matcher
from knowledge.model import Lang
from knowledge.render import render_analysis
from knowledge.wrap import display_width, wrap
from store import open_store

ROOT = Path(__file__).resolve().parent.parent
KB = default_matcher().kb
LANGS: tuple[Lang, ...] = ("en", "zh-TW")
CLOSING = "，。、：；！？）」』】》"
CODE = "UserErrorRpCollectionLimitReached"
URL = "https://learn.microsoft.com/zh-tw/azure/backup/backup-azure-troubleshoot-vm-backup-fails-snapshot-timeout#usererrorrpcollectionlimitreached"
ZH = (
    "跨還原點集合和 VM 的資源群組的還原點數目不能超過 18 個。若要建立新的還原點，請刪除現有的"
    "還原點（例如 `AzureBackupRG_northeurope_1` 中的集合），然後重試備份作業。"
)
EN = (
    "A lock on the restore point resource group keeps Azure Backup from cleaning up old "
    "restore points, so the VM reaches the limit of 18 and new backups fail."
)
MIXED = (
    f"錯誤碼 {CODE} 表示還原點已達上限；請參閱{URL}，並移除資源群組 AzureBackupRG_eastus_1 的鎖定。"
)


def _cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _overflow_is_one_token(line: str) -> bool:
    """A line over the width holds a marker and one piece nothing could break: a code, a URL."""
    rest = re.sub(r"^\s*(?:\d+\.\s|-\s|->\s|Note:\s|附註：)?\s*", "", line, count=1)
    letters = [c for c in rest if _cjk(c) and not unicodedata.category(c).startswith("P")]
    return not re.search(r"\s", rest) and not letters


def _assert_fits(text: str, width: int) -> None:
    for line in text.splitlines():
        if display_width(line) > width:
            assert _overflow_is_one_token(line), (width, line)
        assert not line.lstrip()[:1] or line.lstrip()[0] not in CLOSING, line


# --- wrapping ----------------------------------------------------------------------------------


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("VM 備份") == 7
    assert display_width("（，）") == 6  # full-width punctuation
    assert display_width("abc") == 3


@pytest.mark.parametrize("width", [40, 100])
def test_english_breaks_only_between_words(width: int) -> None:
    lines = wrap(EN, width, prefix="  1. ")
    assert all(display_width(line) <= width for line in lines)
    assert " ".join(lines).split() == ["1.", *EN.split()]
    assert all(line.startswith("     ") for line in lines[1:])  # hanging indent under the text


@pytest.mark.parametrize("width", [40, 100])
def test_chinese_fits_by_display_width_and_keeps_its_punctuation(width: int) -> None:
    lines = wrap(ZH, width, prefix="  ")
    assert len(lines) > 1 or display_width(ZH) + 2 <= width
    assert all(display_width(line) <= width for line in lines), lines
    assert all(line.strip()[0] not in CLOSING for line in lines)
    assert all(not line.rstrip().endswith(("（", "「")) for line in lines)
    assert "".join("".join(lines).split()) == "".join(ZH.split())  # nothing lost, nothing added
    assert any("`AzureBackupRG_northeurope_1`" in line for line in lines)


def test_chinese_at_40_columns_is_not_cut_by_character_count() -> None:
    lines = wrap(ZH, 40)
    # 40 characters of Chinese would take 80 columns: a count of characters overflows.
    assert max(display_width(line) for line in lines) > 30
    assert all(len(line) < 40 for line in lines)


@pytest.mark.parametrize("width", [40, 100])
def test_codes_and_urls_stay_whole_in_mixed_text(width: int) -> None:
    lines = wrap(MIXED, width, prefix="  - ")
    for whole in (CODE, URL, "AzureBackupRG_eastus_1"):
        assert sum(whole in line for line in lines) == 1, (whole, lines)
    _assert_fits("\n".join(lines), width)
    if width == 40:
        # too long: a line of its own, with the comma that must not start the next one
        assert "    " + URL + "，" in lines


def test_a_word_longer_than_the_line_is_not_split() -> None:
    assert wrap(f"see {URL} now", 30) == ["see", URL, "now"]


# --- diagnose ----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [40, 100])
@pytest.mark.parametrize("lang", LANGS)
def test_every_answer_fits_the_width(lang: Lang, width: int) -> None:
    for entry in KB.entries:
        out = render_analysis(analyse(entry.code), lang=lang, kb=KB, width=width)
        _assert_fits(out, width)


@pytest.mark.parametrize("lang", LANGS)
def test_urls_and_codes_of_an_answer_are_whole_at_40_columns(lang: Lang) -> None:
    entry = KB.get(CODE)
    assert entry is not None
    out = render_analysis(analyse(CODE), lang=lang, kb=KB, width=40)
    lines = out.splitlines()
    answer = compose(entry, KB, lang, code=CODE)
    for url in {link.url for link in answer.links} | {
        s.link.url for s in answer.sections if s.link
    }:
        assert any(url in line for line in lines), url
    assert any("`AzureBackupRG_<Geo>_<number>`" in line for line in lines)


def test_labels_follow_the_readers_language() -> None:
    zh = render_analysis(analyse(CODE), lang="zh-TW", kb=KB)
    for english in ("via ", "score ", "Causes:", "Steps:", "Docs:", "Offered actions:", "Matched"):
        assert english not in zh
    for chinese in ("分數 100", "比對依據：錯誤碼", "原因：", "步驟：", "文件：", "可用的動作："):
        assert chinese in zh
    en = render_analysis(analyse(CODE), lang="en", kb=KB)
    assert "(score 100, via error code)" in en
    assert "比對" not in en
    message = render_analysis(analyse("VM 代理程式無法與 Azure 備份通訊"), kb=KB)
    assert "比對依據：錯誤訊息" in message


@pytest.mark.parametrize("lang", LANGS)
def test_actions_show_labels_people_read_with_the_name_after(lang: Lang) -> None:
    entry = KB.get(CODE)
    assert entry is not None
    answer = compose(entry, KB, lang, code=CODE)
    names = [*answer.diagnostics, *answer.remediations]
    assert names
    out = render_analysis(analyse(CODE), lang=lang, kb=KB)
    for name in names:
        label = action_label(name, lang)
        assert label != name
        assert f"  - {label} [{name}]" in out
    assert not re.search(rf"^\s*- (?:{'|'.join(DIAGNOSTICS + REMEDIATIONS)})\b", out, re.M)


def _run(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_FIX_", "COLUMNS"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input="",
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, **env},
        timeout=60,
        check=False,
    )


def test_diagnose_wraps_at_columns_and_at_100_when_not_a_terminal() -> None:
    narrow = _run("diagnose", "--lang", "zh-TW", CODE, COLUMNS="40")
    assert narrow.returncode == 0, narrow.stderr
    _assert_fits(narrow.stdout, 40)
    assert max(display_width(line) for line in narrow.stdout.splitlines()) > 30
    piped = _run("diagnose", "--lang", "zh-TW", CODE)  # stdout is a pipe, no COLUMNS
    _assert_fits(piped.stdout, 100)
    widths = [display_width(line) for line in piped.stdout.splitlines()]
    assert any(60 < n <= 100 for n in widths)


# --- empty stores ------------------------------------------------------------------------------


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_audit_and_kb_report_on_a_missing_database_create_nothing(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    url = f"sqlite:///{db}"
    audit = _run("audit", BACKUP_FIX_DATABASE_URL=url)
    assert (audit.returncode, audit.stdout) == (0, "No audit records yet.\n"), audit.stderr
    verify = _run("audit", "--verify", BACKUP_FIX_DATABASE_URL=url)
    assert verify.returncode == 0, verify.stderr
    report = _run("kb", "report", BACKUP_FIX_DATABASE_URL=url)
    assert report.returncode == 0, report.stderr
    assert report.stdout.splitlines()[0] == "Nothing recorded yet."
    assert "Unmatched pastes" not in report.stdout
    as_json = _run("kb", "report", "--json", BACKUP_FIX_DATABASE_URL=url)
    data = json.loads(as_json.stdout)
    assert data["unmatched"] == {"total": 0, "groups": []}
    assert (data["feedback"], data["unknown_codes"]) == ([], [])
    assert _files(tmp_path) == []


def test_the_default_database_is_not_created_by_a_read(tmp_path: Path) -> None:
    assert _run("audit", cwd=tmp_path).stdout == "No audit records yet.\n"
    assert _run("kb", "report", cwd=tmp_path).returncode == 0
    assert _files(tmp_path) == []


def test_a_database_without_our_tables_is_read_as_empty_and_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (x INTEGER)")
    monkeypatch.setenv("BACKUP_FIX_DATABASE_URL", f"sqlite:///{db}")
    assert main(["audit"]) == 0
    assert capsys.readouterr().out == "No audit records yet.\n"
    assert main(["kb", "report", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unmatched"]["total"] == 0
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert (tables, mode) == (["notes"], "delete")


def test_old_records_only_say_since_when(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(url)
    Ledger(store).audit("refused", actor="U1", reason="not_approver")
    old = datetime.now(UTC) - timedelta(days=30)
    record_unmatched(
        store, excerpt="old", digest="d", best=None, source="command", channel="C1", at=old
    )
    store.close()
    monkeypatch.setenv("BACKUP_FIX_DATABASE_URL", url)
    assert main(["audit", "--since", "2050-01-01"]) == 0
    assert capsys.readouterr().out == "No audit records since 2050-01-01 00:00 UTC.\n"
    assert main(["audit"]) == 0
    assert "refused" in capsys.readouterr().out
    assert main(["kb", "report"]) == 0
    assert capsys.readouterr().out.startswith("Nothing recorded since ")
    assert main(["kb", "report", "--since", "60d"]) == 0
    assert "Unmatched pastes: 1 in 1 group(s)" in capsys.readouterr().out
