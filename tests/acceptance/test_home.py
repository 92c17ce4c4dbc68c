"""The App Home tab over real HTTP, with the real bot, fake Slack and fake Azure: published on
``app_home_opened``; an approver approves from it through the card's gate, once, and the tabs are
redrawn; forged, copied or the requester's own Home approvals are refused; approvers are mentioned
on the card; the search box answers like ``/backup-fix``."""

from __future__ import annotations

import json
from typing import Any

from actions.approvals import Status
from tests.acceptance.actions_helpers import APPROVE, Driver, Msg, mutations, settle
from tests.acceptance.conftest_actions import (
    APPROVER1,
    APPROVER2,
    CHANNEL,
    GROUP,
    OUTSIDER,
    REQUESTER,
    World,
    ask,
    open_thread,
    request_of,
    wait_status,
    world_fixture,  # noqa: F401 (fixture)
)
from tests.fakes import signing
from tests.fakes.slack_api import Call, buttons, strings

HOME_APPROVE, HOME_REJECT, HOME_SEARCH = (
    "backup_fix.home.approve",
    "backup_fix.home.reject",
    "backup_fix.home.search",
)


def open_home(bot: Driver, user: str) -> dict[str, Any]:
    """``user`` opens the bot's Home tab; the view the bot published for them."""
    mark = len(bot.fake.calls("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "DHOME", "tab": "home"}
    event["event_ts"] = signing.new_ts()
    assert bot.client.event(event).status == 200
    return published(bot, user, after=mark)


def published(
    bot: Driver,
    user: str,
    *,
    after: int = 0,
    timeout: float = 15.0,
    showing: str | None = None,
) -> dict[str, Any]:
    """The first Home view published for ``user`` after the ``after``-th views.publish call
    (and, with ``showing``, whose text holds it: a refresh for another reason may come first)."""

    def mine(c: Call) -> bool:
        if c.params.get("user_id") != user:
            return False
        return showing is None or showing in text_of(c.params.get("view") or {"blocks": []})

    calls = bot.fake.wait_for("views.publish", count=after + 1, timeout=timeout)
    while not [c for c in calls[after:] if mine(c)]:
        calls = bot.fake.wait_for("views.publish", count=len(calls) + 1, timeout=timeout)
    view = next(c for c in calls[after:] if mine(c)).params["view"]
    assert isinstance(view, dict)
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    return view


def home_button(view: dict[str, Any], action_id: str, request_id: str) -> dict[str, Any] | None:
    found = [
        b
        for b in buttons(view["blocks"])
        if b["action_id"] == action_id and json.loads(b["value"])["id"] == request_id
    ]
    return found[0] if found else None


def home_click(
    bot: Driver, view: dict[str, Any], button: dict[str, Any], *, user: str, value: str = ""
) -> None:
    """The ``block_actions`` Slack sends for a click on ``user``'s Home tab."""
    payload = {
        "type": "block_actions",
        "team": {"id": signing.TEAM, "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": signing.TEAM},
        "api_app_id": signing.APP,
        "token": "legacy-verification-token",
        "trigger_id": f"{signing.new_ts()}.1.home",
        "container": {"type": "view", "view_id": view.get("id", "VH1")},
        "view": {**view, "id": view.get("id", "VH1"), "type": "home", "state": {"values": {}}},
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "decide0",
                "type": button.get("type", "button"),
                "value": value or button.get("value", ""),
                "action_ts": signing.new_ts(),
            }
        ],
    }
    assert bot.client.interaction(payload).status == 200


def text_of(view: dict[str, Any]) -> str:
    return "\n".join(strings(view["blocks"]))


def backups(world: World) -> list[str]:
    return [m for m in mutations(world.arm) if m.startswith("POST ") and m.endswith("/backup")]


def pending(world: World) -> tuple[Driver, str, Any, str]:
    ids = world.populate()
    db = world.sqlite_url()
    bot = world.start_bot(db)
    root = open_thread(bot, "BackUpOperationFailed", vm_id=ids.vm)
    card, _ = ask(bot, root, "trigger_backup")
    return bot, db, card, root


def test_home_lists_waiting_requests_and_an_approve_there_runs_once(world: World) -> None:
    bot, db, card, _root = pending(world)
    req = request_of(world, db, card)
    # The card told the approvers: their group and users are mentioned (Slack notifies them).
    posted = next(c for c in world.slack.calls("chat.postMessage") if req.id in c.all_text())
    said = str(posted.params.get("text"))
    assert f"<!subteam^{GROUP}>" in said
    assert f"<@{APPROVER1}>" in said
    # The requester's Home: their open request, nothing to approve.
    own = open_home(bot, REQUESTER)
    assert req.id not in json.dumps([b.get("value") for b in buttons(own["blocks"])])
    assert "Backup" in text_of(own) or "backup" in text_of(own)
    # An approver's Home: the request with Approve / Reject.
    home = open_home(bot, APPROVER1)
    approve = home_button(home, HOME_APPROVE, req.id)
    assert approve is not None
    assert home_button(home, HOME_REJECT, req.id) is not None
    mark = len(world.slack.calls("views.publish"))
    home_click(bot, home, approve, user=APPROVER1)
    home_click(bot, home, approve, user=APPROVER1)  # a double click
    done = wait_status(world, db, req.id, Status.SUCCEEDED, Status.FAILED)
    assert done.status == Status.SUCCEEDED
    assert done.decided_by == APPROVER1
    settle(1)
    assert len(backups(world)) == 1
    # Redrawn after the approval: nothing waits for the approver any more.
    after = published(bot, APPROVER1, after=mark)
    assert home_button(after, HOME_APPROVE, req.id) is None
    events = [r.event for r in world.ledger(db).records() if r.request_id == req.id]
    assert events.count("approved") == 1


def test_forged_copied_or_own_home_approvals_are_refused(world: World) -> None:
    bot, db, card, _root = pending(world)
    req = request_of(world, db, card)
    home = open_home(bot, APPROVER1)
    approve = home_button(home, HOME_APPROVE, req.id)
    assert approve is not None
    value = json.loads(approve["value"])
    forged_tag = json.dumps({**value, "home": "0" * 64})
    attempts = [
        (OUTSIDER, approve["value"]),  # the approver's button, clicked by someone else
        (REQUESTER, approve["value"]),  # ... by the requester
        (APPROVER2, approve["value"]),  # ... by another approver: not their Home's tag
        (APPROVER2, forged_tag),  # a made-up tag
        (APPROVER1, json.dumps({k: v for k, v in value.items() if k != "home"})),  # no tag
    ]
    for user, raw in attempts:
        mark = len(world.slack.calls("views.publish"))
        home_click(bot, home, approve, user=user, value=raw)
        told = published(bot, user, after=mark, showing="notice")  # on the clicker's Home
        assert "notice" in [b.get("block_id") for b in told["blocks"]], user
    # Pasted into another message instead: refused where it was clicked.
    elsewhere = Msg(CHANNEL, "999.000001", card.thread_ts, "copied", [])
    copy = bot.click(elsewhere, {**approve}, user=APPROVER1)
    assert copy.status == 200
    assert bot.private(copy).strip()
    settle(1)
    assert world.ledger(db).get(req.id).status == Status.PENDING
    assert backups(world) == []
    refused = [r.detail.get("reason") for r in world.ledger(db).records() if r.event == "refused"]
    assert refused.count("tampered") >= 4
    assert "wrong_channel" in refused
    # The genuine one still works afterwards.
    home_click(bot, home, approve, user=APPROVER1)
    assert wait_status(world, db, req.id, Status.SUCCEEDED).decided_by == APPROVER1


def test_rejecting_from_home_and_the_search_box(world: World) -> None:
    bot, db, card, _root = pending(world)
    req = request_of(world, db, card)
    home = open_home(bot, APPROVER2)
    reject = home_button(home, HOME_REJECT, req.id)
    assert reject is not None
    home_click(bot, home, reject, user=APPROVER2)
    assert wait_status(world, db, req.id, Status.REJECTED).decided_by == APPROVER2
    assert backups(world) == []
    # The card in the channel shows the decision too (same gate, same card refresh).
    assert world.slack.wait_for(
        "chat.update",
        where=lambda c: c.params.get("channel") == CHANNEL and APPROVE not in str(c.params),
    )
    # Search: answers like /backup-fix, in the Home tab, without buttons that need a thread.
    box = {"action_id": HOME_SEARCH, "type": "plain_text_input"}
    mark = len(world.slack.calls("views.publish"))
    home_click(bot, home, box, user=APPROVER2, value="UserErrorRpCollectionLimitReached")
    found = published(bot, APPROVER2, after=mark, showing="UserErrorRpCollectionLimitReached")
    assert "UserErrorRpCollectionLimitReached" in text_of(found)
    assert {b["action_id"] for b in buttons(found["blocks"])} <= {HOME_APPROVE, HOME_REJECT}
