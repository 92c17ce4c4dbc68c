"""The holes a security review found, closed, over real HTTP: signed requests in, the fake Slack
and the real Azure SDK against the fake Resource Manager out.

A lock that does not block the restore points' cleanup is never offered nor removed; an approval
binds to its plan under a key the database does not hold and counts only on the card's own
message; Azure features stay in the action channels; unsigned or forged requests change nothing;
the audit chain's head, logged outside the database, shows records cut off its end.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import delete, func, select, update

from actions.approvals import Status
from actions.ledger import approvals, audit
from store import unmatched_pastes
from tests.acceptance.actions_helpers import (
    APPROVE,
    Driver,
    Msg,
    diagnose,
    mutations,
    request,
    settle,
)
from tests.acceptance.conftest_actions import (
    APP_RG,
    APPROVER1,
    CHANNEL,
    REQUESTER,
    SUB,
    World,
    ask,
    open_thread,
    request_of,
    wait_status,
    world_fixture,  # noqa: F401 (fixture)
)
from tests.fakes import signing
from tests.fakes.botproc import run_to_exit

PROD_LOCK, PROD_NOTES = "protect-production", "Production data: never delete (CHG-1187)"
OTHER_CHANNEL = "CSRE"


def backups(world: World) -> list[str]:
    return [m for m in mutations(world.arm) if m.startswith("POST ") and m.endswith("/backup")]


def pending(world: World, db: str, **env: str) -> tuple[Driver, str, Msg]:
    """A bot with a pending trigger_backup request by REQUESTER; (bot, thread root, card)."""
    ids = world.populate()
    bot = world.start_bot(db, **env)
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    card, _ = ask(bot, root, "trigger_backup")
    return bot, root, card


def nothing_happened(world: World, db: str, request_id: str) -> None:
    settle(1)
    assert mutations(world.arm, succeeded_only=False) == []
    stored = world.ledger(db).get(request_id)
    assert stored is not None
    assert stored.status == Status.PENDING


# -- 1. remove_rg_lock: only a lock on the VM's restore-point group ---------------------------


def test_a_lock_protecting_another_group_is_neither_offered_nor_removed(world: World) -> None:
    db = world.sqlite_url()
    ids = world.populate(lock=False)  # the restore-point group is not locked
    prod = world.arm.add_lock(SUB, APP_RG, PROD_LOCK, level="CanNotDelete", notes=PROD_NOTES)
    bot = world.start_bot(db)
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    msg, button = bot.find(CHANNEL, root, diagnose("locks"))
    bot.click(msg, button, user=REQUESTER)
    report = bot.wait_thread(
        CHANNEL, root, lambda m: PROD_LOCK in m.all_text(), what="locks report"
    )
    assert request("remove_rg_lock") not in report.action_ids()  # not suggested for this lock
    # The answer lists the entry's fixes before the VM is known; its button gets no card: the
    # default finds no lock that blocks the cleanup of the VM's restore points.
    msg, button = bot.find(CHANNEL, root, request("remove_rg_lock"))
    click = bot.click(msg, button, user=REQUESTER)
    assert click.status == 200
    assert "restore point" in bot.private(click).casefold()
    settle(1)
    assert [r for r in world.ledger(db).with_status(*Status) if r.action == "remove_rg_lock"] == []
    assert mutations(world.arm, succeeded_only=False) == []
    with world.arm.lock:
        assert prod.lower() in world.arm.resources


# -- 2. the approval binds to the plan and to the card ------------------------------------------


def test_a_request_edited_in_the_database_is_neither_approved_nor_run(world: World) -> None:
    db = world.sqlite_url()
    bot, _root, card = pending(world, db)
    req = request_of(world, db, card)
    # Someone with database access points the request at the other VM; the card is unchanged.
    edited = {**req.params, "vm": world.ids.other_vm}
    with world.ledger(db).store.engine.begin() as conn:
        conn.execute(
            update(approvals)
            .where(approvals.c.id == req.id)
            .values(params=json.dumps(edited, sort_keys=True))
        )
    click = bot.click(card, card.element(APPROVE) or {}, user=APPROVER1)
    assert click.status == 200
    assert bot.private(click).strip()
    nothing_happened(world, db, req.id)
    last = [r for r in world.ledger(db).records() if r.request_id == req.id][-1]
    assert (last.event, last.detail.get("reason")) == ("refused", "tampered")


@pytest.mark.parametrize("where", ["another message", "another channel"])
def test_an_approve_value_copied_off_the_card_is_refused(world: World, where: str) -> None:
    db = world.sqlite_url()
    bot, root, card = pending(world, db)
    req = request_of(world, db, card)
    element = card.element(APPROVE)
    assert element is not None
    answer = next(m for m in bot.thread(CHANNEL, root) if m.ts != card.ts and m.private_to is None)
    if where == "another channel":
        answer = Msg(OTHER_CHANNEL, card.ts, None, card.text, card.blocks)
    click = bot.click(answer, element, user=APPROVER1)
    assert click.status == 200
    said = bot.private(click)
    assert "own approval card" in said
    nothing_happened(world, db, req.id)
    # The card itself still works, once.
    bot.click(card, element, user=APPROVER1)
    done = wait_status(world, db, req.id, Status.SUCCEEDED, Status.FAILED)
    assert done.status == Status.SUCCEEDED
    assert len(backups(world)) == 1


def test_serve_with_remediations_and_no_signing_key_fails_naming_it(world: World) -> None:
    world.populate()
    env = world.env(world.sqlite_url())
    del env["BACKUP_FIX_SIGNING_KEY"]
    done = run_to_exit(env, ("serve", "--http", "--host", "127.0.0.1", "--port", "0"))
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "BACKUP_FIX_SIGNING_KEY" in lines[0]
    assert "listening on" not in done.stdout


# -- 7. the audit chain's head, outside the database ---------------------------------------------


def logged_heads(bot: Driver) -> list[str]:
    heads = []
    for line in bot.bot.stderr.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("audit_head"):
            heads.append(str(record["audit_head"]))
    return heads


def test_records_cut_off_the_end_show_against_the_logged_head(world: World) -> None:
    db = world.sqlite_url()
    bot, _root, card = pending(world, db)
    req = request_of(world, db, card)
    bot.click(card, card.element(APPROVE) or {}, user=APPROVER1)
    wait_status(world, db, req.id, Status.SUCCEEDED, Status.FAILED)
    settle(2)  # the job follow-up appends too
    bot.bot.stop()
    heads = logged_heads(bot)
    assert heads, bot.log_tail()
    head = heads[-1]
    intact = world.cli(db, "audit", "--verify", "--head", head)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    with world.ledger(db).store.engine.begin() as conn:
        last = conn.execute(select(func.max(audit.c.seq))).scalar()
        conn.execute(delete(audit).where(audit.c.seq == last))
    # The chain that is left is consistent in itself; only the head shows the cut.
    assert world.cli(db, "audit", "--verify").returncode == 0
    cut = world.cli(db, "audit", "--verify", "--head", head)
    assert cut.returncode == 1, cut.stdout + cut.stderr
    assert "cut off" in cut.stdout


# -- 8. action channels ----------------------------------------------------------------------------


def test_outside_the_action_channels_azure_features_are_not_offered_and_clicks_refused(
    world: World,
) -> None:
    db = world.sqlite_url()
    ids = world.populate()
    bot = world.start_bot(db, BACKUP_FIX_ACTION_CHANNELS=OTHER_CHANNEL)
    root = bot.paste(f"Backup of {ids.vm} failed: BackUpOperationFailed", channel=CHANNEL)
    answer = bot.wait_thread(
        CHANNEL, root, lambda m: "BackUpOperationFailed" in m.all_text(), what="the answer"
    )
    settle(2)
    shown = [a for m in bot.thread(CHANNEL, root) for a in m.action_ids()]
    assert not [a for a in shown if a.startswith(("backup_fix.request.", "backup_fix.diagnose."))]
    assert "backup_fix.pick_vm" not in shown
    forged = {
        "action_id": request("trigger_backup"),
        "type": "button",
        "text": {"type": "plain_text", "text": "Back up now"},
        "value": json.dumps({"code": "BackUpOperationFailed"}),
    }
    click = bot.click(answer, forged, user=REQUESTER)
    assert click.status == 200
    assert "BACKUP_FIX_ACTION_CHANNELS" in bot.private(click)
    settle(1)
    assert world.ledger(db).with_status(*Status) == []
    with world.arm.lock:
        assert world.arm.requests == []  # not even a read
    # In an action channel the same paste gets its buttons.
    other = bot.paste(f"Backup of {ids.vm} failed: BackUpOperationFailed", channel=OTHER_CHANNEL)
    bot.find(OTHER_CHANNEL, other, request("trigger_backup"))


# -- 9. unsigned and forged requests -------------------------------------------------------------

BAD_SIGNATURES = {
    "wrong secret": lambda h: {**h, "X-Slack-Signature": signing.signature("forged", 1, b"")},
    "no signature header": lambda h: {k: v for k, v in h.items() if k != "X-Slack-Signature"},
    "no headers at all": lambda h: {"Content-Type": h["Content-Type"]},
    "stale timestamp": lambda h: {**h, "X-Slack-Request-Timestamp": "1000"},
}


def post_unsigned(bot: Driver, form: dict[str, str], how: str) -> int:
    body = urlencode(form).encode()
    good = signing.signed_headers(
        bot.secret, body, content_type="application/x-www-form-urlencoded"
    )
    return bot.client.request("POST", "/slack/events", body, BAD_SIGNATURES[how](good)).status


def counts(world: World, db: str) -> tuple[int, int, int, int]:
    """(requests, audit records, unmatched pastes, Slack calls): nothing may change."""
    with world.ledger(db).store.engine.connect() as conn:
        stored = tuple(
            int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in (approvals, audit, unmatched_pastes)
        )
    return (*stored, len(world.slack.calls(include_failed=True)))


@pytest.mark.parametrize("how", list(BAD_SIGNATURES))
def test_unsigned_or_forged_clicks_commands_and_submissions_are_401_and_change_nothing(
    world: World, how: str
) -> None:
    db = world.sqlite_url()
    bot, _root, card = pending(world, db)
    req = request_of(world, db, card)
    settle(2)
    before = counts(world, db)
    arm_before = len(world.arm.requests)
    element = card.element(APPROVE)
    assert element is not None
    url = world.slack.response_url("forged")
    approve = bot.payload(card, element, user=APPROVER1, url=url)
    value = str(element.get("value"))
    day = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    submission = signing.view_submission(
        {"callback_id": "backup_fix.params_modal", "private_metadata": value, "blocks": []},
        user=REQUESTER,
        values={
            "retain_until": {
                "backup_fix.param.retain_until": {"type": "datepicker", "selected_date": day}
            }
        },
    )
    command = signing.command_form(
        "UserErrorNeverSeenBefore42 in vault", response_url=url, channel=CHANNEL, user=REQUESTER
    )
    forms: dict[str, dict[str, str]] = {
        "approve click": {"payload": json.dumps(approve)},
        "modal submission": {"payload": json.dumps(submission)},
        "slash command": command,
    }
    for what, form in forms.items():
        assert post_unsigned(bot, form, how) == 401, what
    settle(2)
    assert counts(world, db) == before
    assert len(world.arm.requests) == arm_before
    assert mutations(world.arm, succeeded_only=False) == []
    stored = world.ledger(db).get(req.id)
    assert stored is not None
    assert stored.status == Status.PENDING
    assert stored.params == req.params
    # The same approve click, signed, is what goes through.
    signed = bot.client.interaction(approve)
    assert signed.status == 200
    assert wait_status(world, db, req.id, Status.SUCCEEDED).status == Status.SUCCEEDED
