"""An incident's buttons over real HTTP: a real-shaped Azure Monitor alert POSTed to the bot becomes
an incident message on the fake Slack, diagnosed from the job read on the fake Resource Manager;
its diagnostic button posts the report in the incident's thread and its remediation button posts
the approval card there, through the listeners a paste's buttons use. The Home tab lists that
incident for the members of its channel only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests import alert_samples as samples
from tests.acceptance.actions_helpers import APPROVE, Driver, Msg, diagnose, poll, request
from tests.acceptance.conftest_actions import (
    AGENT_VERSION,
    APP_RG,
    CHANNEL,
    OUTSIDER,
    REQUESTER,
    VM,
    World,
    world_fixture,  # noqa: F401 (fixture)
)
from tests.acceptance.test_home import open_home, text_of
from tests.fakes.slack_api import Call

TOKEN = "acceptance-incident-actions-5b0c2e"
CODE = "BackUpOperationFailed"  # the fake job's errorTitle: what the incident is filed under


def alert_bot(world: World) -> tuple[Driver, str]:
    """The populated Azure, a bot taking alerts into CHANNEL, and one VM failure alerted: the
    bot and the incident's root message ts."""
    ids = world.populate()
    world.slack.keep_posts = True  # replies and history find the incident's message
    bot = world.start_bot(BACKUP_FIX_ALERT_TOKEN=TOKEN, BACKUP_FIX_ALERT_CHANNEL=CHANNEL)
    alert = samples.vm(vault=ids.vault, name=VM, rg=APP_RG)
    alert["data"]["alertContext"]["extendedInfo"]["jobId"] = ids.failed_job
    # Fired now: the Home tab lists the incidents of the last days.
    fired = datetime.now(UTC) - timedelta(minutes=5)
    alert["data"]["essentials"]["firedDateTime"] = fired.isoformat().replace("+00:00", "Z")
    headers = {"Content-Type": "application/json"}
    sent = bot.client.request("POST", f"/azure/alerts?token={TOKEN}", samples.body(alert), headers)
    assert sent.status == 202, sent.body

    def root(c: Call) -> bool:
        return c.params.get("channel") == CHANNEL and not c.params.get("thread_ts")

    call = world.slack.wait_for("chat.postMessage", 1, 30.0, where=root)[0]
    ts = world.slack.ts_of(call)
    assert ts is not None
    assert VM in str(call.params.get("text"))
    return bot, ts


def incident_message(bot: Driver, ts: str) -> Msg:
    """The incident's root message as the channel shows it now (edits applied)."""
    text, blocks = "", []
    for call in bot.fake.calls():
        p = call.params
        if call.method == "chat.postMessage" and bot.fake.ts_of(call) == ts:
            text, blocks = str(p.get("text") or ""), call.blocks
        elif call.method == "chat.update" and str(p.get("ts")) == ts:
            text, blocks = str(p.get("text") or text), call.blocks or blocks
    return Msg(CHANNEL, ts, None, text, blocks)


def button(msg: Msg, action_id: str) -> dict[str, Any]:
    found = msg.element(action_id)
    assert found is not None, f"no {action_id} on the incident: {msg.action_ids()}"
    return found


def test_a_diagnostic_on_an_incident_reports_in_its_thread(world: World) -> None:
    bot, root = alert_bot(world)
    incident = incident_message(bot, root)
    assert CODE in incident.all_text()  # diagnosed from the job Resource Manager holds
    click = bot.click(incident, button(incident, diagnose("vm_agent_status")), user=REQUESTER)
    assert click.status == 200
    report = bot.wait_thread(
        CHANNEL,
        root,
        lambda m: m.private_to is None and AGENT_VERSION in m.all_text(),
        what="the VM agent report in the incident's thread",
    )
    assert re.search(r"(?i)VMSnapshot", report.all_text())
    assert report.thread_ts == root
    assert f"virtualMachines/{VM}" in " ".join(r.path for r in world.arm.requests)


def test_a_remediation_on_an_incident_posts_its_approval_card_in_its_thread(world: World) -> None:
    bot, root = alert_bot(world)
    incident = incident_message(bot, root)
    click = bot.click(incident, button(incident, request("trigger_backup")), user=REQUESTER)
    assert click.status == 200
    card = bot.wait_thread(
        CHANNEL,
        root,
        lambda m: m.element(APPROVE) is not None and m.private_to is None,
        what="the approval card in the incident's thread",
    )
    assert card.thread_ts == root
    assert VM in card.all_text()


def test_the_home_tab_lists_the_incident_for_members_of_its_channel_only(world: World) -> None:
    bot, _root = alert_bot(world)
    world.slack.memberships = {REQUESTER: ["CELSEWHERE", "CMORE", CHANNEL], OUTSIDER: ["CELSE"]}

    def listed() -> dict[str, Any] | None:
        view = open_home(bot, REQUESTER)
        return view if VM in text_of(view) else None

    # The root's ts is recorded just after Slack took it; the Home tab lists posted incidents.
    assert poll(listed, 20.0, interval=0.5) is not None
    asked = [c.params for c in world.slack.calls("users.conversations")]
    assert {p.get("user") for p in asked} == {REQUESTER}
    assert len(asked) >= 2  # the reader's channels came in pages
    outsider = open_home(bot, OUTSIDER)
    assert VM not in text_of(outsider)
    assert "incidents_none" in [b.get("block_id") for b in outsider["blocks"]]
    # Slack cannot say which channels a reader is in: no incidents, and a line saying so.
    world.slack.memberships["UNEWCOMER"] = [CHANNEL]
    world.slack.fail_next("users.conversations", status=500)
    unknown = open_home(bot, "UNEWCOMER")
    assert VM not in text_of(unknown)
    assert "incidents_unknown" in [b.get("block_id") for b in unknown["blocks"]]
