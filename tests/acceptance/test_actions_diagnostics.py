"""Diagnostics over real HTTP: the real Azure SDK clients read a fake Resource Manager over HTTPS.

Anyone in the channel may run a diagnostic; its report lands in the thread, and nothing in Azure
changes. Which VM: the one the paste names, else the one picked from the "Pick the VM" menu, and
never one outside ``BACKUP_FIX_VAULTS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from knowledge import load_kb
from knowledge.answer import compose
from tests.acceptance.actions_helpers import (
    PICK_VM,
    Click,
    Driver,
    Msg,
    diagnose,
    mutations,
    no_leaks,
    options,
    poll,
    settle,
    touched,
)
from tests.acceptance.conftest_actions import (
    AGENT_VERSION,
    APP_RG,
    CHANNEL,
    CODE_FOR,
    JOB_ADVICE,
    JOB_MESSAGE,
    LOCK,
    LOCK_LEVEL,
    OTHER_VM,
    OUTSIDER,
    REQUESTER,
    ROGUE_RG,
    ROGUE_VAULT,
    ROGUE_VM,
    VAULT,
    VM,
    World,
    open_thread,
    world_fixture,  # noqa: F401 (the world fixture)
)
from tests.fakes.msi import FakeMsi

ARM_SCOPE = "https://management.azure.com"
# What each report must show from the fake's model, and the path it must have read.
REPORTS: dict[str, tuple[tuple[str, ...], str]] = {
    "vm_agent_status": ((AGENT_VERSION, "VMSnapshot", r"(?i)fail"), f"virtualMachines/{VM}"),
    "job_details": ((re.escape(JOB_ADVICE), "Take Snapshot"), "/backupJobs"),
    "protection_status": ((r"(?i)action ?required", r"(?i)unhealthy"), "protectedItems"),
    "restore_points": ((r"\b15\b", r"\b18\b"), "/restorePointCollections"),
    "locks": ((re.escape(LOCK), LOCK_LEVEL), "/Microsoft.Authorization/locks"),
}


def new_in_thread(bot: Driver, root: str, before: set[str], patterns: tuple[str, ...]) -> Msg:
    """Wait for a message posted after ``before`` whose text matches every pattern."""
    return bot.wait_thread(
        CHANNEL,
        root,
        lambda m: m.ts not in before and all(re.search(p, m.all_text()) for p in patterns),
        what=f"new message matching {patterns}",
    )


def test_every_diagnostic_is_offered_by_the_pasted_entries() -> None:
    kb = load_kb()
    for name in REPORTS:
        entry = kb.get(CODE_FOR[name])
        assert entry is not None
        assert name in compose(entry, kb, "en").diagnostics


@pytest.mark.parametrize("name", list(REPORTS))
def test_every_diagnostic_posts_its_report_in_the_thread(world: World, name: str) -> None:
    ids = world.populate()
    bot = world.start_bot()
    root = open_thread(bot, CODE_FOR[name], vm_id=ids.vm)
    msg, button = bot.find(CHANNEL, root, diagnose(name))
    before = {m.ts for m in bot.thread(CHANNEL, root)}
    # Anyone in the channel may run a read-only check.
    click = bot.click(msg, button, user=OUTSIDER)
    assert click.status == 200, click.body
    patterns, path = REPORTS[name]
    report = new_in_thread(bot, root, before, patterns)
    assert report.private_to is None
    assert [r for r in touched(world.arm, path) if r.startswith("GET ")], world.arm.requests
    # The real credential asked the managed-identity endpoint for Resource Manager's scope.
    assert ARM_SCOPE in [r.rstrip("/") for r in world.msi.resources]
    assert FakeMsi.token_for(ARM_SCOPE) in world.arm.tokens
    settle(0.5)
    assert mutations(world.arm, succeeded_only=False) == []
    assert no_leaks(bot.slack_text()) == []


def test_the_thread_shows_the_latest_jobs_real_error_for_the_pasted_vm(world: World) -> None:
    ids = world.populate()
    bot = world.start_bot()
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    bot.wait_thread(CHANNEL, root, lambda m: JOB_MESSAGE in m.all_text(), what="the job's error")
    assert [r for r in touched(world.arm, "/backupJobs") if r.startswith("GET ")]
    assert mutations(world.arm, succeeded_only=False) == []


def test_the_vm_is_picked_from_a_menu_when_the_paste_names_none(world: World) -> None:
    world.populate()
    bot = world.start_bot()
    root = bot.paste("backup failed again: BackUpOperationFailed", channel=CHANNEL, user=REQUESTER)
    menu_msg, menu = bot.find(CHANNEL, root, PICK_VM, visible_to=REQUESTER)
    shown = options(menu)
    labels = [str(o["text"]["text"]) for o in shown]
    assert shown, "the Pick the VM menu has no options"
    # Failed and unhealthy first; only VMs of the configured vaults.
    assert VM in labels[0], labels
    assert not any(ROGUE_VM in label for label in labels)
    if any(OTHER_VM in label for label in labels):
        assert labels.index(next(x for x in labels if OTHER_VM in x)) > 0
    pick = bot.click(menu_msg, menu, user=REQUESTER, option=shown[0])
    assert pick.status == 200, pick.body
    bot.wait_thread(CHANNEL, root, lambda m: JOB_MESSAGE in m.all_text(), what="the job's error")
    msg, button = bot.find(CHANNEL, root, diagnose("vm_agent_status"), visible_to=REQUESTER)
    before = {m.ts for m in bot.thread(CHANNEL, root)}
    bot.click(msg, button, user=REQUESTER)
    new_in_thread(bot, root, before, (AGENT_VERSION,))
    assert touched(world.arm, f"virtualMachines/{VM}")
    assert not touched(world.arm, ROGUE_VM)


def test_a_vm_outside_the_configured_vaults_is_refused(world: World) -> None:
    ids = world.populate()
    bot = world.start_bot()
    root = bot.paste(f"Backup of {ids.rogue_vm} failed: BackUpOperationFailed", channel=CHANNEL)
    bot.wait_thread(
        CHANNEL, root, lambda m: "BackUpOperationFailed" in m.all_text(), what="the answer"
    )
    for name in REPORTS:
        if bot.has(CHANNEL, root, diagnose(name)):
            msg, button = bot.find(CHANNEL, root, diagnose(name))
            bot.click(msg, button, user=REQUESTER)
    # A clear word about it: the VM is not in a configured vault.
    bot.wait_thread(
        CHANNEL,
        root,
        lambda m: ROGUE_VM in m.all_text() or "vault" in m.all_text().lower(),
        what="a refusal naming the VM or the vaults",
    )
    settle()
    assert touched(world.arm, ROGUE_VM) == []
    assert touched(world.arm, ROGUE_VAULT) == []
    assert mutations(world.arm, succeeded_only=False) == []


def test_a_forged_pick_of_a_vm_outside_the_vaults_is_refused(world: World) -> None:
    ids = world.populate()
    bot = world.start_bot()
    root = bot.paste("backup failed again: BackUpOperationFailed", channel=CHANNEL, user=REQUESTER)
    menu_msg, menu = bot.find(CHANNEL, root, PICK_VM, visible_to=REQUESTER)
    real = options(menu)[0]
    forged = _retarget(real, ids.vm, ids.rogue_vm, ids.vault, ids.rogue_vault)
    assert forged != real
    click = bot.click(menu_msg, menu, user=REQUESTER, option=forged)
    assert click.status == 200
    text = _private_text(bot, click, lambda: _refused_in_thread(bot, root))
    for name in REPORTS:
        if bot.has(CHANNEL, root, diagnose(name)):
            msg, button = bot.find(CHANNEL, root, diagnose(name))
            bot.click(msg, button, user=REQUESTER)
    settle(2)
    assert touched(world.arm, ROGUE_VM) == []
    assert touched(world.arm, ROGUE_VAULT) == []
    assert mutations(world.arm, succeeded_only=False) == []
    assert text or _refused_in_thread(bot, root), (
        "the forged pick was neither refused privately nor in the thread"
    )


def _refused_in_thread(bot: Driver, root: str) -> bool:
    return any(
        ROGUE_VM in m.all_text() or "vault" in m.all_text().lower()
        for m in bot.thread(CHANNEL, root)
    )


def _private_text(bot: Driver, click: Click, answered: Callable[[], bool]) -> str:
    """What only the clicker saw; "" when nothing came in 5 s or the thread answered first."""

    def seen() -> str | None:
        try:
            return bot.private(click, timeout=0)
        except AssertionError:
            return None

    found = poll(lambda: seen() or answered(), 5)
    return found if isinstance(found, str) else ""


def _retarget(option: dict[str, object], *pairs: str) -> dict[str, object]:
    """The option with every mention of the real VM (and vault) swapped for the rogue ones."""
    swaps = [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]
    swaps += [(VAULT, ROGUE_VAULT), (APP_RG, ROGUE_RG), (VM, ROGUE_VM)]

    def swap(value: object) -> object:
        if isinstance(value, str):
            for old, new in swaps:
                value = re.sub(re.escape(old), new, value, flags=re.IGNORECASE)
            return value
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    result = swap(option)
    assert isinstance(result, dict)
    return result


def test_diagnostics_show_for_every_enabled_action_set(world: World) -> None:
    # Diagnostics are always on, even with no remediation enabled.
    ids = world.populate()
    bot = world.start_bot(BACKUP_FIX_ENABLED_ACTIONS="")
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    bot.find(CHANNEL, root, diagnose("vm_agent_status"))
    settle()
    shown = {a for m in bot.thread(CHANNEL, root) for a in m.action_ids()}
    assert not any(a.startswith("backup_fix.request.") for a in shown), shown
