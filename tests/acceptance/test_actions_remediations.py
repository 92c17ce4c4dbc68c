"""Every remediation's happy path: request -> approval card -> approved by another approver ->
exactly one mutating call on the fake Resource Manager -> the outcome (with the job id) in the
thread.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from actions.approvals import Status
from knowledge import load_kb
from knowledge.answer import compose
from tests.acceptance.actions_helpers import (
    APPROVE,
    REJECT,
    Msg,
    mutations,
    no_leaks,
    request,
    settle,
)
from tests.acceptance.conftest_actions import (
    APPROVER1,
    CHANNEL,
    CODE_FOR,
    LOCK,
    LOCK_LEVEL,
    LOCK_NOTES,
    REQUESTER,
    VM,
    World,
    ask,
    card_now,
    open_thread,
    request_of,
    wait_status,
    world_fixture,  # noqa: F401 (the world fixture)
)

# action -> (world options, the one mutating call expected: method, path pattern)
CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "trigger_backup": ({}, "POST", rf"/protectedItems/VM;iaasvmcontainerv2;rg-app;{VM}/backup$"),
    "cancel_job": ({"running_job": True}, "POST", r"/backupJobs/{running}/cancel$"),
    "remove_snapshot_extension": ({}, "DELETE", rf"/virtualMachines/{VM}/extensions/VMSnapshot$"),
    "remove_rg_lock": ({}, "DELETE", rf"/Microsoft\.Authorization/locks/{LOCK}$"),
    "delete_restore_point_collection": (
        {"lock": False, "points": (18,)},
        "DELETE",
        rf"/restorePointCollections/AzureBackup_{VM}_0$",
    ),
    "resume_protection": (
        {"state": "ProtectionStopped"},
        "PUT",
        rf"/protectedItems/VM;iaasvmcontainerv2;rg-app;{VM}$",
    ),
}


def test_every_remediation_is_offered_by_the_pasted_entries() -> None:
    kb = load_kb()
    for name in CASES:
        entry = kb.get(CODE_FOR[name])
        assert entry is not None
        assert name in compose(entry, kb, "en").remediations, name


def approve_and_finish(
    world: World, bot: Any, root: str, card: Msg, *, approver: str = APPROVER1
) -> Any:
    """Approve the card as ``approver``; the stored request once it has run."""
    req = request_of(world, world.sqlite_url(), card)
    approve = card.element(APPROVE)
    assert approve is not None
    click = bot.click(card, approve, user=approver)
    assert click.status == 200, click.body
    return wait_status(world, world.sqlite_url(), req.id, Status.SUCCEEDED, Status.FAILED)


@pytest.mark.parametrize("action", list(CASES))
def test_remediation_runs_once_after_approval(world: World, action: str) -> None:
    options, method, pattern = CASES[action]
    ids = world.populate(**options)
    pattern = pattern.replace("{running}", ids.running_job)
    bot = world.start_bot()
    root = open_thread(bot, CODE_FOR[action], vm_id=ids.vm)
    card, _ = ask(bot, root, action)
    text = card.all_text()
    assert REQUESTER in text, "the card names the requester"
    assert card.element(REJECT) is not None
    assert VM in text, "the card names the VM the plan acts on"
    assert mutations(world.arm, succeeded_only=False) == [], "nothing changes before approval"
    done = approve_and_finish(world, bot, root, card)
    assert done.status == Status.SUCCEEDED, done.outcome
    settle(1)
    changed = mutations(world.arm, succeeded_only=False)
    assert len(changed) == 1, changed
    verb, path = changed[0].split(" ", 1)
    assert verb == method
    assert re.search(pattern, path, re.IGNORECASE), (pattern, path)
    # The card no longer offers a decision, and the outcome is in the thread.
    assert card_now(bot, root, card).element(APPROVE) is None
    job = str(done.outcome.get("job_id") or "")
    if action in ("trigger_backup", "cancel_job"):
        assert job, done.outcome
        bot.wait_thread(CHANNEL, root, lambda m: job in m.all_text(), what=f"outcome with {job}")
    assert no_leaks(bot.slack_text()) == []


def test_trigger_backup_asks_for_a_retention_date_and_reports_the_jobs_end(world: World) -> None:
    ids = world.populate()
    bot = world.start_bot()
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    card, _ = ask(bot, root, "trigger_backup")
    done = approve_and_finish(world, bot, root, card)
    assert done.status == Status.SUCCEEDED, done.outcome
    [post] = world.arm.calls("POST", "/backup")
    expiry = post.body["properties"]["recoveryPointExpiryTimeInUTC"]
    assert re.match(r"\d{4}-\d\d-\d\dT", expiry), post.body
    job = str(done.outcome["job_id"])
    assert world.arm.job(ids.vault, job)["properties"]["status"] == "InProgress"
    bot.wait_thread(CHANNEL, root, lambda m: job in m.all_text(), what="the outcome with the job")
    # The job ends in Azure; the bot follows it in the background and says how it ended.
    with world.arm.lock:
        world.arm.job(ids.vault, job)["properties"]["status"] = "Completed"
    bot.wait_thread(
        CHANNEL,
        root,
        lambda m: job in m.all_text() and "Completed" in m.all_text(),
        timeout=90,
        what="the job's final status",
    )
    assert world.arm.count("GET", f"/backupJobs/{job}") >= 1


def test_remove_rg_lock_card_shows_the_locks_name_level_and_notes(world: World) -> None:
    ids = world.populate()
    bot = world.start_bot()
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    card, _ = ask(bot, root, "remove_rg_lock")
    text = card.all_text()
    for shown in (LOCK, LOCK_LEVEL, LOCK_NOTES):
        assert shown in text, f"{shown!r} not on the card: {text[:2000]}"


def test_removing_the_snapshot_extension_then_offers_a_backup(world: World) -> None:
    ids = world.populate()
    bot = world.start_bot()
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    card, _ = ask(bot, root, "remove_snapshot_extension")
    before = {m.ts for m in bot.thread(CHANNEL, root)}
    done = approve_and_finish(world, bot, root, card)
    assert done.status == Status.SUCCEEDED, done.outcome
    bot.wait_thread(
        CHANNEL,
        root,
        lambda m: m.ts not in before and m.element(request("trigger_backup")) is not None,
        what="a trigger_backup offer after the extension went",
    )
    assert world.arm.get(f"{ids.vm}/extensions/VMSnapshot") is None


def test_the_card_shows_the_plan_before_anything_runs(world: World) -> None:
    ids = world.populate()
    bot = world.start_bot()
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    card, _ = ask(bot, root, "remove_snapshot_extension")
    req = request_of(world, world.sqlite_url(), card)
    assert req.status == Status.PENDING
    assert req.requester == REQUESTER
    # The card shows the exact plan the approval binds to: its operations and resources.
    for line in req.plan.splitlines():
        resource = re.search(r"/subscriptions/\S+", line)
        if resource:
            assert resource.group(0).rstrip(":") in card.all_text()
    assert mutations(world.arm, succeeded_only=False) == []
