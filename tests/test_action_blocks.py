"""Block Kit of the approval flow: cards, reports, the VM menu and audit lines, without Slack."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block as SdkBlock

from actions.approvals import Status, new_request
from actions.base import Finding, Report
from actions.ledger import AuditRecord
from actions.resources import Outcome, VmRef
from bot import ids
from bot.blocks.actions import (
    MAX_OPTIONS,
    audit_line,
    audit_reply,
    card_blocks,
    item_key,
    outcome_reply,
    pick_vm_reply,
    report_reply,
)
from tests.fakes.backup_api import VAULT, protected_vm

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def request(**changes: Any) -> Any:
    req = new_request(
        action="trigger_backup",
        params={"vm": "x", "args": {"retain_until": "2025-04-01"}},
        plan="trigger_backup on web-01\n- POST /x/backup: start <now> & keep",
        requester="UREQ",
        channel="C1",
        thread_ts="1.0",
        now=NOW,
        key=b"k" * 32,
    )
    return dataclasses.replace(req, **changes)


def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def valid(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        parsed = SdkBlock.parse(block)
        assert parsed is not None
        parsed.validate_json()


def test_pending_card_carries_id_and_plan_hash_and_escapes_the_plan() -> None:
    req = request()
    blocks = card_blocks(req, now=NOW)
    valid(blocks)
    buttons = elements(blocks)
    assert [b["action_id"] for b in buttons] == [ids.APPROVE, ids.REJECT]
    assert {json.dumps(json.loads(b["value"]), sort_keys=True) for b in buttons} == {
        json.dumps({"hash": req.plan_hash, "id": req.id}, sort_keys=True)
    }
    text = json.dumps(blocks)
    assert "&lt;now&gt; &amp; keep" in text
    assert "<@UREQ>" in text
    assert "2025-03-01 12:30 UTC" in text


@pytest.mark.parametrize(
    ("status", "word"),
    [
        (Status.APPROVED, "running"),
        (Status.SUCCEEDED, "done"),
        (Status.FAILED, "failed"),
        (Status.REJECTED, "Rejected"),
        (Status.EXPIRED, "Expired"),
    ],
)
def test_decided_cards_have_no_buttons(status: Status, word: str) -> None:
    blocks = card_blocks(request(status=status, decided_by="UAPP"), now=NOW)
    valid(blocks)
    assert elements(blocks) == []
    assert word in json.dumps(blocks)


def test_a_pending_card_past_its_time_reads_expired() -> None:
    blocks = card_blocks(request(), now=NOW + timedelta(hours=1))
    assert elements(blocks) == []
    assert "Expired" in json.dumps(blocks)


def test_vm_menu_caps_options_and_values() -> None:
    items = [
        protected_vm(VmRef("sub-1", "rg", f"vm-{n:03d}-" + "x" * 80))
        for n in range(MAX_OPTIONS + 5)
    ]
    reply = pick_vm_reply(items, "C" * 100)
    valid(reply.blocks)
    (menu,) = elements(reply.blocks)
    assert menu["action_id"] == ids.PICK_VM
    assert len(menu["options"]) == MAX_OPTIONS
    assert all(len(o["value"]) <= 150 for o in menu["options"])
    assert menu["options"][0]["value"].startswith(item_key(items[0]) + "|")
    assert item_key(items[0]) != item_key(items[1])
    assert item_key(protected_vm(vault=dataclasses.replace(VAULT, name="v2"))) != item_key(
        protected_vm()
    )


def test_empty_menu_says_so() -> None:
    reply = pick_vm_reply([], None)
    assert elements(reply.blocks) == []
    assert "None of the configured vaults" in reply.text


def test_report_marks_findings_and_offers_requests() -> None:
    report = Report(
        "vm_agent_status",
        "web-01",
        (
            Finding("Agent", "Ready", True),
            Finding("VMSnapshot", "<failed>", False),
            Finding("x", "y"),
        ),
        "The snapshot extension failed.",
        ("remove_snapshot_extension",),
    )
    reply = report_reply(report, "CODE", ["remove_snapshot_extension", "locks"])
    valid(reply.blocks)
    text = json.dumps(reply.blocks, ensure_ascii=False)
    assert "✅ *Agent*: Ready" in text
    assert "⚠️ *VMSnapshot*: &lt;failed&gt;" in text
    assert "• *x*: y" in text
    assert [e["action_id"] for e in elements(reply.blocks)] == [
        ids.request_id("remove_snapshot_extension"),
        ids.diagnose_id("locks"),
    ]
    assert json.loads(elements(reply.blocks)[0]["value"]) == {
        "code": "CODE",
        "action": "remove_snapshot_extension",
    }


def test_outcome_shows_job_link_and_correlation_id() -> None:
    outcome = Outcome(
        True,
        "Backup started.",
        job_id="job-1",
        correlation_id="corr-1",
        portal_url="https://portal.azure.com/#@/resource/x",
    )
    reply = outcome_reply(request(), outcome)
    valid(reply.blocks)
    text = json.dumps(reply.blocks)
    for part in ("job-1", "corr-1", "https://portal.azure.com/#@/resource/x", "Backup started."):
        assert part in text


def test_audit_lines() -> None:
    record = AuditRecord(
        7,
        "2025-03-01T12:00:00+00:00",
        "UAPP",
        "approved",
        "r1",
        "trigger_backup",
        "a" * 64,
        "corr-1",
        {"reason": "x"},
    )
    line = audit_line(record)
    assert line.startswith("#7 2025-03-01T12:00:00+00:00 approved by UAPP")
    assert "request r1 (trigger_backup)" in line
    assert "plan aaaaaaaaaaaa" in line
    assert "corr corr-1" in line
    assert "reason=x" in line
    valid(audit_reply([record]).blocks)
    assert "empty" in audit_reply([]).text
