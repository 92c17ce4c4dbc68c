"""The approval rules over real HTTP: who may decide, when, on what exact plan; exactly once under
racing clicks, replicas and restarts; and the hash-chained audit trail behind it all.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from actions.approvals import Status
from actions.ledger import approvals, audit
from tests.acceptance.actions_helpers import (
    APPROVE,
    REJECT,
    Click,
    Driver,
    Msg,
    mutations,
    poll,
    request,
    settle,
)
from tests.acceptance.conftest import Slack
from tests.acceptance.conftest_actions import (
    APPROVER1,
    APPROVER2,
    CHANNEL,
    GROUP,
    GROUP_MEMBER,
    OUTSIDER,
    REQUESTER,
    World,
    all_requests,
    ask,
    open_thread,
    pg_url_fixture,  # noqa: F401 (fixture)
    request_of,
    store_url_fixture,  # noqa: F401 (fixture)
    wait_status,
    world_fixture,  # noqa: F401 (fixture)
)

ACTION = "trigger_backup"


def backups(world: World) -> list[str]:
    """The successful on-demand backup triggers the fake ARM received."""
    return [m for m in mutations(world.arm) if m.startswith("POST ") and m.endswith("/backup")]


def pending_card(world: World, db: str, *, requester: str = REQUESTER) -> tuple[Driver, str, Msg]:
    """A bot on ``db`` with a pending trigger_backup request by ``requester``."""
    ids = world.populate()
    bot = world.start_bot(db)
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm, user=requester)
    card, _ = ask(bot, root, ACTION, user=requester)
    return bot, root, card


def click_card(
    bot: Driver, card: Msg, action_id: str, user: str, value: str | None = None
) -> Click:
    """Click Approve or Reject on the card as ``user``."""
    element = card.element(action_id)
    assert element is not None, card.action_ids()
    click = bot.click(card, element, user=user, value=value)
    assert click.status == 200, click.body
    return click


def assert_refused(world: World, bot: Driver, db: str, click: Click, request_id: str) -> str:
    """The click got a private refusal, nothing ran and the request is still pending."""
    text = bot.private(click)
    assert text.strip()
    settle(1)
    assert mutations(world.arm, succeeded_only=False) == []
    stored = world.ledger(db).get(request_id)
    assert stored is not None
    assert stored.status == Status.PENDING
    return text


def events(world: World, db: str, request_id: str) -> list[str]:
    """The audit events recorded for one request, in order."""
    return [r.event for r in world.ledger(db).records() if r.request_id == request_id]


# -- who may approve ------------------------------------------------------------------------------


def test_the_requester_cannot_approve_their_own_request(world: World) -> None:
    db = world.sqlite_url()
    bot, _root, card = pending_card(world, db, requester=APPROVER1)
    req = request_of(world, db, card)
    click = click_card(bot, card, APPROVE, APPROVER1)
    assert_refused(world, bot, db, click, req.id)
    assert "refused" in events(world, db, req.id)


def test_a_non_approver_is_refused(world: World) -> None:
    db = world.sqlite_url()
    bot, _root, card = pending_card(world, db)
    req = request_of(world, db, card)
    click = click_card(bot, card, APPROVE, OUTSIDER)
    assert_refused(world, bot, db, click, req.id)
    assert "refused" in events(world, db, req.id)


def test_a_member_of_the_approver_group_may_approve(world: World) -> None:
    db = world.sqlite_url()
    bot, _root, card = pending_card(world, db)
    req = request_of(world, db, card)
    click_card(bot, card, APPROVE, GROUP_MEMBER)
    done = wait_status(world, db, req.id, Status.SUCCEEDED, Status.FAILED)
    assert done.status == Status.SUCCEEDED
    assert done.decided_by == GROUP_MEMBER
    assert len(backups(world)) == 1
    asked = world.slack.calls("usergroups.users.list")
    assert any(c.params.get("usergroup") == GROUP for c in asked)


def test_an_expired_request_is_refused_and_its_card_updated(world: World) -> None:
    # The shortest TTL the bot accepts is a minute; the test moves the expiry into the past
    # instead of waiting for it.
    db = world.sqlite_url()
    bot, root, card = pending_card(world, db)
    req = request_of(world, db, card)
    store = world.ledger(db).store
    with store.engine.begin() as conn:
        past = datetime.now(UTC) - timedelta(minutes=1)
        conn.execute(update(approvals).where(approvals.c.id == req.id).values(expires_at=past))
    click = click_card(bot, card, APPROVE, APPROVER2)
    assert bot.private(click).strip()
    wait_status(world, db, req.id, Status.EXPIRED, timeout=15)
    now = bot.wait_thread(
        CHANNEL,
        root,
        lambda m: m.ts == card.ts and m.element(APPROVE) is None,
        what="the card updated to expired",
    )
    assert re.search(r"(?i)expired", now.all_text())
    settle(1)
    assert mutations(world.arm, succeeded_only=False) == []


def test_a_request_overdue_at_restart_expires_and_its_card_is_updated(world: World) -> None:
    db = world.sqlite_url()
    bot, root, card = pending_card(world, db)
    req = request_of(world, db, card)
    bot.bot.stop()
    with world.ledger(db).store.engine.begin() as conn:
        past = datetime.now(UTC) - timedelta(minutes=1)
        conn.execute(update(approvals).where(approvals.c.id == req.id).values(expires_at=past))
    again = world.start_bot(db)
    wait_status(world, db, req.id, Status.EXPIRED, timeout=20)
    again.wait_thread(
        CHANNEL,
        root,
        lambda m: m.ts == card.ts and m.element(APPROVE) is None,
        what="the card updated to expired",
    )


# -- what may be approved -----------------------------------------------------------------------


def test_a_tampered_plan_hash_is_refused(world: World) -> None:
    db = world.sqlite_url()
    bot, _root, card = pending_card(world, db)
    req = request_of(world, db, card)
    value = str((card.element(APPROVE) or {}).get("value", ""))
    assert req.plan_hash in value, "the Approve value carries the plan hash"
    flipped = ("0" if req.plan_hash[0] != "0" else "1") + req.plan_hash[1:]
    click = click_card(bot, card, APPROVE, APPROVER1, value=value.replace(req.plan_hash, flipped))
    assert_refused(world, bot, db, click, req.id)


def test_a_value_moved_to_another_request_is_refused(world: World) -> None:
    db = world.sqlite_url()
    bot, root, first = pending_card(world, db)
    second, _ = ask(bot, root, "remove_snapshot_extension")
    a, b = request_of(world, db, first), request_of(world, db, second)
    value = str((first.element(APPROVE) or {}).get("value", ""))
    # A's plan hash presented for B: the approval must bind to the exact plan.
    click = click_card(bot, second, APPROVE, APPROVER1, value=value.replace(a.id, b.id))
    assert_refused(world, bot, db, click, b.id)
    assert world.ledger(db).get(a.id).status == Status.PENDING  # type: ignore[union-attr]


def test_reject_closes_the_request(world: World) -> None:
    db = world.sqlite_url()
    bot, root, card = pending_card(world, db)
    req = request_of(world, db, card)
    click_card(bot, card, REJECT, APPROVER2)
    done = wait_status(world, db, req.id, Status.REJECTED, timeout=15)
    assert done.decided_by == APPROVER2
    bot.wait_thread(
        CHANNEL, root, lambda m: m.ts == card.ts and m.element(APPROVE) is None, what="card"
    )
    late = click_card(bot, card, APPROVE, APPROVER1)  # the old card, clicked late
    assert bot.private(late).strip()
    settle(1)
    assert mutations(world.arm, succeeded_only=False) == []
    assert "rejected" in events(world, db, req.id)


# -- exactly once ---------------------------------------------------------------------------------


def race(bots: list[Driver], card: Msg, users: list[str], clicks: int = 20) -> list[int]:
    """``clicks`` Approve clicks at once, spread over ``bots`` and ``users``; their statuses."""
    element = card.element(APPROVE)
    assert element is not None
    start = threading.Barrier(clicks)

    def one(n: int) -> int:
        bot = bots[n % len(bots)]
        start.wait()
        return bot.click(card, element, user=users[n % len(users)]).status

    with ThreadPoolExecutor(clicks) as pool:
        return list(pool.map(one, range(clicks)))


def test_twenty_parallel_approvals_make_one_azure_call(world: World, store_url: str) -> None:
    bot, _root, card = pending_card(world, store_url)
    req = request_of(world, store_url, card)
    statuses = race([bot], card, [APPROVER1, APPROVER2, GROUP_MEMBER])
    assert statuses == [200] * 20
    wait_status(world, store_url, req.id, Status.SUCCEEDED, Status.FAILED)
    settle(2)
    assert len(backups(world)) == 1, mutations(world.arm, succeeded_only=False)
    assert events(world, store_url, req.id).count("approved") == 1


def test_two_replicas_on_one_postgres_make_one_azure_call(world: World, pg_url: str) -> None:
    first, _root, card = pending_card(world, pg_url)
    second = world.start_bot(pg_url)
    req = request_of(world, pg_url, card)
    statuses = race([first, second], card, [APPROVER1, APPROVER2, GROUP_MEMBER])
    assert statuses == [200] * 20
    wait_status(world, pg_url, req.id, Status.SUCCEEDED, Status.FAILED)
    settle(2)
    assert len(backups(world)) == 1, mutations(world.arm, succeeded_only=False)
    assert events(world, pg_url, req.id).count("approved") == 1


def test_a_pending_approval_survives_a_restart(world: World, store_url: str) -> None:
    bot, root, card = pending_card(world, store_url)
    req = request_of(world, store_url, card)
    assert bot.bot.stop() == 0
    again = world.start_bot(store_url)
    click_card(again, card, APPROVE, APPROVER1)
    done = wait_status(world, store_url, req.id, Status.SUCCEEDED, Status.FAILED)
    assert done.status == Status.SUCCEEDED
    assert len(backups(world)) == 1
    job = str(done.outcome.get("job_id") or "")
    again.wait_thread(CHANNEL, root, lambda m: bool(job) and job in m.all_text(), what="outcome")


# -- enabled actions ------------------------------------------------------------------------------


def test_an_action_not_enabled_has_no_button_and_a_forged_click_is_refused(world: World) -> None:
    db = world.sqlite_url()
    ids = world.populate()
    bot = world.start_bot(db, BACKUP_FIX_ENABLED_ACTIONS="trigger_backup")
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    msg, button = bot.find(CHANNEL, root, request("trigger_backup"))
    diag_msg, diag = bot.find(CHANNEL, root, "backup_fix.diagnose.vm_agent_status")
    bot.click(diag_msg, diag, user=REQUESTER)
    bot.wait_thread(CHANNEL, root, lambda m: "VMSnapshot" in m.all_text(), what="agent report")
    settle(1)
    shown = {a for m in bot.thread(CHANNEL, root) for a in m.action_ids()}
    assert request("remove_snapshot_extension") not in shown, shown
    forged = {
        **button,
        "action_id": request("remove_snapshot_extension"),
        "value": str(button.get("value", "")).replace(
            "trigger_backup", "remove_snapshot_extension"
        ),
    }
    cards_before = [m for m in bot.thread(CHANNEL, root) if m.element(APPROVE) is not None]
    click = bot.click(msg, forged, user=REQUESTER)
    assert click.status == 200
    assert bot.private(click).strip()
    settle(1)
    cards = [m for m in bot.thread(CHANNEL, root) if m.element(APPROVE) is not None]
    assert cards == cards_before
    assert [r for r in all_requests(world, db) if r.action == "remove_snapshot_extension"] == []
    assert mutations(world.arm, succeeded_only=False) == []


# -- audit ----------------------------------------------------------------------------------------


def test_the_audit_trail_records_everything_and_detects_an_edit(world: World) -> None:
    db = world.sqlite_url()
    bot, _root, card = pending_card(world, db)
    req = request_of(world, db, card)
    bot.private(click_card(bot, card, APPROVE, OUTSIDER))  # refused: recorded too
    click_card(bot, card, APPROVE, APPROVER1)
    done = wait_status(world, db, req.id, Status.SUCCEEDED, Status.FAILED)
    assert done.status == Status.SUCCEEDED

    def trail() -> list[Any] | None:  # the outcome's record follows the status by a moment
        found = [r for r in world.ledger(db).records() if r.request_id == req.id]
        return found if any(r.event == "succeeded" for r in found) else None

    records = poll(trail, timeout=10) or []
    seen = [r.event for r in records]
    for event in ("requested", "refused", "approved", "executing", "succeeded"):
        assert event in seen, seen
    assert seen.index("requested") < seen.index("approved") < seen.index("succeeded")
    assert {r.plan_hash for r in records} == {req.plan_hash}
    by_actor = {r.event: r.actor for r in records}
    assert by_actor["requested"] == REQUESTER
    assert by_actor["approved"] == APPROVER1
    # The result carries the Azure correlation id of the call the fake answered.
    arm_ids = {r.correlation_id for r in world.arm.requests}
    result = next(r for r in records if r.event == "succeeded")
    assert result.correlation_id in arm_ids, result
    listed = world.cli(db, "audit")
    assert listed.returncode == 0, listed.stderr
    assert req.id in listed.stdout
    assert len([line for line in listed.stdout.splitlines() if req.id in line]) >= len(records)
    intact = world.cli(db, "audit", "--verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    bot.bot.stop()
    with world.ledger(db).store.engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.event == "approved").values(actor=APPROVER2))
    broken = world.cli(db, "audit", "--verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    approved_seq = next(r.seq for r in records if r.event == "approved")
    assert re.search(rf"\b{approved_seq}\b", broken.stdout), broken.stdout


def test_slash_audit_shows_records_to_approvers_only(world: World) -> None:
    db = world.sqlite_url()
    bot, _root, card = pending_card(world, db)
    req = request_of(world, db, card)
    slack = Slack(world.slack, bot.bot)
    shown = slack.command("audit", user=APPROVER2, channel=CHANNEL)
    assert "requested" in shown.all_text()
    assert req.id in shown.all_text() or ACTION in shown.all_text()
    refused = slack.command("audit", user=OUTSIDER, channel=CHANNEL)
    assert req.id not in refused.all_text()
    assert "requested" not in refused.all_text()
