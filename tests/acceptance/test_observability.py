"""Observability over real HTTP: /readyz, JSON logs with Slack's request ids, and ``kb report``."""

from __future__ import annotations

import json
import uuid

from tests.acceptance.conftest import Slack
from tests.fakes import signing
from tests.fakes.botproc import run_to_exit

GUID = "0b1c2d3e-aaaa-bbbb-cccc-0123456789ab"


def test_readyz_answers_when_the_store_does(slack: Slack) -> None:
    ready = slack.client.get("/readyz")
    assert ready.status == 200
    assert slack.client.get("/healthz").status == 200


def test_stderr_is_json_lines_and_kb_report_shows_the_unmatched_paste(slack: Slack) -> None:
    marker = "zq" + uuid.uuid4().hex[:8]
    mark = slack.bot.stderr_lines
    paste = f"{marker} restore hangs on vm {GUID} owned by alice@contoso.com {marker}"
    event = signing.mention(paste, channel="COBS")
    envelope = signing.event_envelope(event)
    assert slack.client.envelope(envelope).status == 200
    slack.wait_answer("COBS", event["ts"])  # the "no match" reply
    line = slack.bot.wait_stderr(r'"msg": "unmatched paste recorded"', after=mark)
    assert json.loads(line)["request_id"] == envelope["event_id"]

    records = [json.loads(x) for x in slack.bot.stderr.splitlines()[mark:] if x.strip()]
    assert records, "no log lines for the request"
    assert all({"at", "level", "msg"} <= set(r) for r in records)
    ours = [r for r in records if r.get("request_id") == envelope["event_id"]]
    assert any(r["thread"].startswith("listener") for r in ours)
    assert "xoxb-test" not in slack.bot.stderr

    db = slack.bot.env["BACKUP_FIX_DATABASE_URL"]
    done = run_to_exit({"BACKUP_FIX_DATABASE_URL": db}, ("kb", "report", "--json", "--since", "1h"))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    examples = [e for g in report["unmatched"]["groups"] for e in g["examples"]]
    mine = [e for e in examples if marker in e]
    assert mine, examples
    assert GUID not in mine[0]
    assert "contoso" not in mine[0]
    assert "<guid>" in mine[0]
    assert "<email>" in mine[0]

    text = run_to_exit({"BACKUP_FIX_DATABASE_URL": db}, ("kb", "report"))
    assert text.returncode == 0, text.stderr
    assert marker in text.stdout
    assert "Unmatched pastes:" in text.stdout

    metrics = slack.metrics()
    assert metrics.get('backup_fix_unmatched_pastes_total{source="mention"}', 0) >= 1
    assert any(k.startswith("backup_fix_slack_call_seconds_count") for k in metrics)
