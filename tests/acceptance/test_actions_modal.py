"""The approval card's "Change parameters" over real HTTP: the modal opens for the requester only,
a bad date stays in the modal with a block error, a good one replaces the request; the old card
can no longer be approved and the new one runs once, with the new date, against the fake ARM.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from actions.approvals import Status
from tests.acceptance.actions_helpers import APPROVE, Driver, Msg, mutations, settle
from tests.acceptance.conftest_actions import (
    APPROVER1,
    CHANNEL,
    OUTSIDER,
    REQUESTER,
    World,
    ask,
    card_now,
    open_thread,
    request_of,
    wait_status,
    world_fixture,  # noqa: F401 (fixture)
)
from tests.fakes import signing

EDIT = "backup_fix.edit_params"
PARAM = "backup_fix.param.retain_until"


def submit(bot: Driver, view: dict[str, Any], day: date | str) -> Any:
    """Submit the modal with ``day`` in the date picker; the bot's HTTP answer."""
    values = {"retain_until": {PARAM: {"type": "datepicker", "selected_date": str(day)}}}
    payload = signing.view_submission(view, user=REQUESTER, values=values)
    return bot.client.interaction(payload)


def backups(world: World) -> list[str]:
    return [m for m in mutations(world.arm) if m.startswith("POST ") and m.endswith("/backup")]


def test_the_requester_changes_the_date_and_only_the_new_card_runs(world: World) -> None:
    db = world.sqlite_url()
    ids = world.populate()
    bot = world.start_bot(db)
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    card, _ = ask(bot, root, "trigger_backup")
    old = request_of(world, db, card)
    edit = card.element(EDIT)
    assert edit is not None, card.action_ids()

    # Someone else gets a private refusal and no modal.
    refused = bot.click(card, edit, user=OUTSIDER)
    assert refused.status == 200
    assert "Only the person who asked" in bot.private(refused)
    assert world.slack.calls("views.open") == []

    # The requester gets the modal, its date picker on the current date.
    clicked = bot.click(card, edit, user=REQUESTER)
    assert clicked.status == 200
    (opened,) = world.slack.wait_for("views.open")
    assert str(opened.params["trigger_id"]).endswith(".1.abc")
    view = opened.params["view"]
    assert view["callback_id"] == "backup_fix.params_modal"
    (picker,) = [b["element"] for b in view["blocks"] if b.get("block_id") == "retain_until"]
    assert picker["initial_date"] == old.params["args"]["retain_until"]

    # A past date keeps the modal open with an error on the date's block.
    resp = submit(bot, view, date(2001, 1, 1))
    assert resp.status == 200
    answer = resp.json()
    assert answer["response_action"] == "errors"
    assert "not in the future" in answer["errors"]["retain_until"]
    assert wait_status(world, db, old.id, Status.PENDING).status == Status.PENDING

    # A good date closes it; the request is replaced by a new card in the thread.
    new_day = datetime.now(UTC).date() + timedelta(days=90)
    resp = submit(bot, view, new_day)
    assert resp.status == 200
    assert resp.body in (b"", b"{}")
    new_card = bot.wait_thread(
        CHANNEL,
        root,
        lambda m: m.element(APPROVE) is not None and m.ts != card.ts and m.private_to is None,
        what="the new approval card",
    )
    new = request_of(world, db, new_card)
    assert new.id != old.id
    assert new.plan_hash != old.plan_hash
    assert new.params["args"] == {"retain_until": new_day.isoformat()}
    assert new.requester == REQUESTER
    replaced = bot.wait_thread(
        CHANNEL, root, lambda m: m.ts == card.ts and "Replaced" in m.all_text(), what="old card"
    )
    assert replaced.element(APPROVE) is None
    stored = world.ledger(db).get(old.id)
    assert stored is not None
    assert stored.status == Status.REJECTED
    assert stored.outcome["superseded_by"] == new.id
    modified = [r for r in world.ledger(db).records() if r.event == "modified"]
    assert [(r.request_id, r.detail["new_plan_hash"]) for r in modified] == [
        (old.id, new.plan_hash)
    ]

    # The old card's Approve (as it was shown) is refused; the new one runs once.
    stale = _click(bot, card, APPROVE, APPROVER1)
    assert "already been decided" in bot.private(stale)
    settle(1)
    assert backups(world) == []
    _click(bot, card_now(bot, root, new_card), APPROVE, APPROVER1)
    done = wait_status(world, db, new.id, Status.SUCCEEDED, Status.FAILED)
    assert done.status == Status.SUCCEEDED
    assert len(backups(world)) == 1
    (trigger,) = [c for c in world.arm.calls("POST", "/backup") if c.status < 400]
    assert new_day.isoformat() in str(trigger.body)


def _click(bot: Driver, card: Msg, action_id: str, user: str) -> Any:
    element = card.element(action_id)
    assert element is not None, card.action_ids()
    click = bot.click(card, element, user=user)
    assert click.status == 200, click.body
    return click
