"""The incident message: what failed, the paste's short answer with the same buttons, repeats,
the resolved state, within Slack's limits, every Azure-given string inert."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot import ids
from bot.blocks import answer_replies
from bot.blocks.text import MAX_BLOCKS, MAX_HEADER, MAX_TEXT
from incidents.render import fallback_text, repeat_reply, resolved_reply, root_reply
from incidents.state import Incident
from knowledge import load_kb
from knowledge.matcher import analyse
from tests.fakes.slack_api import buttons
from tests.test_escaping import HOSTILE, check

KB = load_kb()
T0 = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)
VAULT = (
    "/subscriptions/6f1c2e7a-0000-4000-8000-0000000000a1/resourceGroups/rg-backup/providers/"
    "Microsoft.RecoveryServices/vaults/vault-prod"
)
CODE = "UserErrorGuestAgentStatusUnavailable"
ALL = frozenset({"vm_agent_status", "job_details", "trigger_backup", "remove_snapshot_extension"})


def incident(**changes: object) -> Incident:
    base = Incident(
        id=7,
        key=f"{VAULT.lower()}/vm-app-01|{CODE}",
        item_key=f"{VAULT.lower()}/vm-app-01",
        vault_id=VAULT,
        item="vm-app-01",
        item_id="",
        workload="AzureIaasVM",
        code=CODE,
        message="VM Agent unable to communicate with Azure Backup",
        portal_link="https://portal.azure.com/#view/alert",
        channel="C1",
        message_ts=None,
        status="open",
        episode=1,
        first_failure=T0,
        last_failure=T0,
        count=1,
        noted=0,
        last_job=f"{VAULT.lower()}/backupjobs/88df0be3-7c77-46c9-bfc2-fb92e3b1918a",
        resolved_at=None,
        resolved_by=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def within_limits(blocks: list[dict[str, object]], text: str) -> None:
    assert text.strip()
    assert len(text) <= MAX_TEXT
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        inner = block.get("text")
        if isinstance(inner, dict):
            limit = MAX_HEADER if block["type"] == "header" else MAX_TEXT
            assert len(inner["text"]) <= limit
    assert len({b["block_id"] for b in blocks}) == len(blocks)


def test_the_root_says_what_failed_and_carries_the_pastes_answer() -> None:
    reply = root_reply(incident(), KB, actions=ALL)
    within_limits(reply.blocks, reply.text)
    said = json.dumps(reply.blocks)
    for part in ("vm-app-01", "AzureIaasVM", "vault-prod", "2026-03-14 02:00", CODE):
        assert part in said
    assert "https://portal.azure.com/#view/alert" in said
    # The paste's short answer for the code, with its buttons, from the same builder.
    (paste,) = answer_replies(analyse(CODE, kb=KB).matches, KB, "en", paste_hash="x", actions=ALL)
    mine = {b["action_id"] for b in buttons(reply.blocks)}
    theirs = {b["action_id"] for b in buttons(paste.blocks)}
    assert mine == theirs
    assert ids.diagnose_id("vm_agent_status") in mine
    # What a click reads to find the VM: vault id, item and job id in the fallback text.
    assert VAULT in reply.text
    assert "vm-app-01" in reply.text
    assert "88df0be3" in reply.text


def test_no_buttons_where_actions_are_not_allowed() -> None:
    reply = root_reply(incident(), KB, actions=())
    assert not [
        b for b in buttons(reply.blocks) if b["action_id"].startswith("backup_fix.diagnose")
    ]
    assert not [b for b in buttons(reply.blocks) if b["action_id"].startswith("backup_fix.request")]


def test_a_repeat_says_how_often_since_when() -> None:
    later = incident(count=3, last_failure=T0 + timedelta(hours=1), noted=1)
    assert "failed 3 times since 02:00 UTC" in json.dumps(root_reply(later, KB).blocks)
    line = repeat_reply(later, 2)
    assert "Failed 2 more times" in json.dumps(line.blocks)
    assert "03:00" in json.dumps(line.blocks)
    days = incident(count=2, last_failure=T0 + timedelta(days=1))
    assert "since 2026-03-14 02:00 UTC" in json.dumps(root_reply(days, KB).blocks)


def test_resolved_drops_the_buttons_and_says_when() -> None:
    done = incident(
        status="resolved", resolved_at=T0 + timedelta(hours=2), resolved_by="x/backupjobs/ok#ok"
    )
    reply = root_reply(done, KB, actions=ALL)
    assert reply.text.startswith("Resolved")
    assert buttons(reply.blocks) == []
    assert "resolved at 2026-03-14 04:00 UTC" in json.dumps(reply.blocks)
    assert "`ok`" in json.dumps(resolved_reply(done).blocks)


def test_an_unknown_code_shows_azures_words() -> None:
    reply = root_reply(incident(code="", message="Something odd " * 200), KB, actions=ALL)
    within_limits(reply.blocks, reply.text)
    assert "No answer in the knowledge base" in json.dumps(reply.blocks)
    assert buttons(reply.blocks) == []


@pytest.mark.parametrize("where", ["item", "workload", "message", "code"])
def test_hostile_azure_strings_are_inert(where: str) -> None:
    bad = incident(**{where: HOSTILE * (30 if where == "message" else 1)})
    if where == "code":
        bad = replace(bad, code=HOSTILE[:100])
    for reply in (root_reply(bad, KB, actions=ALL), repeat_reply(replace(bad, count=2), 1)):
        check(reply)
        within_limits(reply.blocks, reply.text)
    check(resolved_reply(replace(bad, status="resolved", resolved_at=T0)))
    assert "<!channel>" not in fallback_text(bad)


def test_a_huge_item_name_stays_within_limits() -> None:
    reply = root_reply(incident(item="x" * 5000, workload="y" * 500), KB, actions=ALL)
    within_limits(reply.blocks, reply.text)
