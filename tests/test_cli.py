"""The ``backup-fix`` command line, run as operators run it (a subprocess), per CONTRACT.md."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from knowledge.loader import DATA_DIR

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "reference" / "seed" / "000_491265d7fadc68b4.txt"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_match_json_for_a_code() -> None:
    out = run("match", "--json", "Code: UserErrorRpCollectionLimitReached")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["matches"][0] == {
        "code": "UserErrorRpCollectionLimitReached",
        "score": 100,
        "via": "code",
    }


def test_match_json_reads_stdin_and_is_empty_below_the_bar() -> None:
    out = run("match", "--json", stdin="lunch at noon?")
    assert out.returncode == 0
    assert json.loads(out.stdout) == {"matches": [], "unknown_codes": []}
    dash = run("match", "--json", "-", stdin="VM 代理程式無法與 Azure 備份通訊")
    assert json.loads(dash.stdout)["matches"][0]["code"] == "UserErrorGuestAgentStatusUnavailable"


def test_match_json_ranks_several_errors() -> None:
    text = "vm1: UserErrorGuestAgentStatusUnavailable\nvm2: UserErrorRpCollectionLimitReached"
    matches = json.loads(run("match", "--json", text).stdout)["matches"]
    assert {m["code"] for m in matches} == {
        "UserErrorGuestAgentStatusUnavailable",
        "UserErrorRpCollectionLimitReached",
    }
    assert all(0 <= m["score"] <= 100 and m["via"] for m in matches)


def test_match_jsonl_keeps_order_and_survives_bad_lines() -> None:
    lines = [
        json.dumps({"id": 1, "text": "UserErrorBackupOperationInProgress"}),
        "not json",
        json.dumps({"id": 3, "text": 5}),
        "",
        json.dumps({"id": 4, "text": "hello team"}),
    ]
    out = run("match", "--jsonl", stdin="\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 4
    assert rows[0]["id"] == 1
    assert rows[0]["matches"][0]["code"] == "UserErrorBackupOperationInProgress"
    assert "error" in rows[1]
    assert "matches" not in rows[1]
    assert "error" in rows[2]
    assert rows[3] == {"id": 4, "text": "hello team", "matches": [], "unknown_codes": []}


def test_match_lists_unknown_codes_apart_from_the_matches() -> None:
    text = "job failed: UserErrorGuestAgentStateUnavailable, then UserErrorRpCollectionLimitReached"
    data = json.loads(run("match", "--json", text).stdout)
    assert [m["code"] for m in data["matches"]] == ["UserErrorRpCollectionLimitReached"]
    assert data["unknown_codes"] == ["UserErrorGuestAgentStateUnavailable"]
    line = json.dumps({"text": "UserErrorVmNotFoundInDeletedState"})
    row = json.loads(run("match", "--jsonl", stdin=line + "\n").stdout)
    assert row["matches"] == []
    assert row["unknown_codes"] == ["UserErrorVmNotFoundInDeletedState"]


def test_diagnose_without_text_uses_the_sample() -> None:
    out = run("diagnose")
    assert out.returncode == 0, out.stderr
    assert "built-in sample" in out.stdout
    assert "UserErrorGuestAgentStatusUnavailable" in out.stdout
    assert "https://learn.microsoft.com/en-us/azure/backup/" in out.stdout


def test_diagnose_in_the_paste_language_and_with_lang() -> None:
    zh = run("diagnose", "VM 處於失敗的佈建狀態")
    assert "UserErrorVmProvisioningStateFailed" in zh.stdout
    assert "步驟" in zh.stdout
    assert "learn.microsoft.com/zh-tw/" in zh.stdout
    en = run("diagnose", "--lang", "en", "VM 處於失敗的佈建狀態")
    assert "Steps:" in en.stdout
    assert "learn.microsoft.com/en-us/" in en.stdout


def test_diagnose_shows_numbered_steps_sections_and_actions() -> None:
    out = run("diagnose", "UserErrorRpCollectionLimitReached").stdout
    assert "  1. " in out
    assert "[Remove the lock" in out or "Remove lock" in out or "lock" in out.lower()
    assert "[remove_rg_lock] (needs approval)" in out
    assert "[restore_points]" in out
    assert "Based on Microsoft Docs, CC BY 4.0" in out


def test_diagnose_no_match_suggests() -> None:
    out = run("diagnose", "unable to communicate with azure backup maybe")
    assert out.returncode == 0
    assert "UserErrorGuestAgentStatusUnavailable" in out.stdout


def test_diagnose_empty_stdin_dash_is_an_error() -> None:
    out = run("diagnose", "-", stdin="   ")
    assert out.returncode == 2
    assert "empty" in out.stderr


def test_kb_check_ok() -> None:
    out = run("kb", "check")
    assert out.returncode == 0
    assert out.stdout.startswith("knowledge base OK: ")


def test_kb_check_names_file_entry_and_field(tmp_path: Path) -> None:
    broken = tmp_path / "kb"
    shutil.copytree(DATA_DIR, broken)
    entry = broken / "entries" / "vm" / "UserErrorRpCollectionLimitReached.yaml"
    entry.write_text(
        entry.read_text(encoding="utf-8").replace(
            "diagnostics: [", "diagnostics: [no_such_check, "
        ),
        encoding="utf-8",
    )
    out = run("kb", "check", "--dir", str(broken))
    assert out.returncode == 1
    assert "UserErrorRpCollectionLimitReached.yaml" in out.stderr
    assert "entry 'UserErrorRpCollectionLimitReached'" in out.stderr
    assert "field 'diagnostics.0'" in out.stderr


def test_kb_check_reports_broken_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "kb"
    shutil.copytree(DATA_DIR, broken)
    (broken / "entries" / "vm" / "AzureVmOffline.yaml").write_text(
        "code: [unclosed\n", encoding="utf-8"
    )
    out = run("kb", "check", "--dir", str(broken))
    assert out.returncode == 1
    assert "AzureVmOffline.yaml" in out.stderr
    assert "not valid YAML" in out.stderr


def test_kb_import_writes_drafts(tmp_path: Path) -> None:
    out = run("kb", "import", str(SEED), "--out", str(tmp_path), "--article-id", "snapshot-timeout")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "entries" / "vm" / "UserErrorRpCollectionLimitReached.yaml").exists()
    again = run("kb", "import", str(SEED), "--out", str(tmp_path))
    assert again.returncode == 1
    assert "exists" in again.stderr


def test_kb_import_of_a_file_without_codes(tmp_path: Path) -> None:
    article = tmp_path / "a.md"
    article.write_text("# Nothing here\n\nJust prose.\n", encoding="utf-8")
    out = run("kb", "import", str(article))
    assert out.returncode == 1
    assert "no error codes" in out.stderr


def test_match_path_imports_neither_slack_nor_azure() -> None:
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        "main(['match', '--json', 'UserErrorGuestAgentStatusUnavailable'])\n"
        "roots = ('slack_bolt', 'slack_sdk', 'azure')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in roots)\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stderr
