"""Explain any message over real HTTP: the message shortcut (``message_action``) on a human
message, an alert bot's message with attachments and blocks, a message that matches nothing; the
reaction shortcut when configured (once per message, thread replies too) and ignored when not.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from typing import Any

from tests.acceptance.conftest import KNOWN, Slack, sqlite_url
from tests.fakes import signing
from tests.fakes.signing import APP, TEAM
from tests.fakes.slack_api import Call

EMOJI = "backup-fix"
RP = "UserErrorRpCollectionLimitReached"
_seq = itertools.count(1)


def shortcut(message: dict[str, Any], *, channel: str, user: str, url: str) -> dict[str, Any]:
    """The ``message_action`` payload Slack sends when ``user`` uses "Explain this error"."""
    return {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": signing.new_ts(),
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "channel": {"id": channel, "name": "ops"},
        "is_enterprise_install": False,
        "api_app_id": APP,
        "callback_id": "backup_fix.explain",
        "trigger_id": f"{next(_seq)}.1.explain",
        "response_url": url,
        "message_ts": message["ts"],
        "message": message,
    }


def reaction(channel: str, ts: str, *, user: str = "U2", name: str = EMOJI) -> dict[str, Any]:
    """A ``reaction_added`` event on the message at ``ts``."""
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item_user": "U1",
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": signing.new_ts(),
    }


def use_shortcut(slack: Slack, message: dict[str, Any], *, channel: str, user: str = "U7") -> None:
    url = slack.fake.response_url()
    resp = slack.client.interaction(shortcut(message, channel=channel, user=user, url=url))
    assert resp.status == 200, resp.body


def in_thread(channel: str, thread_ts: str) -> Callable[[Call], bool]:
    return lambda c: c.params.get("channel") == channel and c.params.get("thread_ts") == thread_ts


def human(text: str) -> dict[str, Any]:
    return {"type": "message", "user": "U1", "text": text, "ts": signing.new_ts()}


def alert_bot_message() -> dict[str, Any]:
    """An alert bot's post: empty text, the error only in an attachment field and a block."""
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "BALERTS",
        "username": "Azure Monitor",
        "text": "",
        "ts": signing.new_ts(),
        "attachments": [
            {
                "color": "danger",
                "fallback": "Backup alert fired for vm-web-02",
                "title": "Backup failure (Sev2)",
                "fields": [
                    {"title": "Error code", "value": RP, "short": True},
                    {"title": "Resource", "value": "vm-web-02", "short": True},
                ],
            }
        ],
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "Azure Backup job *failed* on `vm-web-02`"},
            }
        ],
    }


def test_the_shortcut_on_a_human_message_answers_in_its_thread(slack: Slack) -> None:
    msg = human(f"the nightly backup failed again: {KNOWN} <@U9> any idea?")
    use_shortcut(slack, msg, channel="CEXPLAIN")
    answer = slack.fake.wait_for("chat.postMessage", where=in_thread("CEXPLAIN", msg["ts"]))[0]
    assert KNOWN in answer.all_text()
    assert "<@U9>" not in answer.all_text()  # nothing of the message comes back live
    assert not slack.fake.calls("chat.postEphemeral")
    # Asked again on the same message: no second answer in the thread, a private word instead.
    use_shortcut(slack, msg, channel="CEXPLAIN")
    slack.fake.wait_for("chat.postEphemeral", where=lambda c: c.params.get("user") == "U7")
    assert len(slack.answers("CEXPLAIN", msg["ts"])) == 1


def test_the_shortcut_reads_a_bot_messages_attachments_and_blocks(slack: Slack) -> None:
    msg = alert_bot_message()
    use_shortcut(slack, msg, channel="CALERTS")
    answer = slack.fake.wait_for("chat.postMessage", where=in_thread("CALERTS", msg["ts"]))[0]
    assert RP in answer.all_text()


def test_the_shortcut_on_a_reply_answers_in_the_same_thread(slack: Slack) -> None:
    parent = human("deploy notes for today")
    reply = {**human(f"and this: {RP}"), "thread_ts": parent["ts"]}
    use_shortcut(slack, reply, channel="CREPLY")
    answer = slack.fake.wait_for("chat.postMessage", where=in_thread("CREPLY", parent["ts"]))[0]
    assert RP in answer.all_text()


def test_the_shortcut_on_a_message_that_matches_nothing_answers_privately(slack: Slack) -> None:
    msg = human("lunch at noon? the *usual* place <!channel>")
    use_shortcut(slack, msg, channel="CLUNCH", user="U8")
    note = slack.fake.wait_for("chat.postEphemeral", where=lambda c: c.params.get("user") == "U8")
    assert note[0].params["channel"] == "CLUNCH"
    assert "<!channel>" not in note[0].all_text()
    slack.barrier()
    assert slack.answers("CLUNCH", msg["ts"]) == []


def test_the_shortcut_suggests_when_the_message_is_close(slack: Slack) -> None:
    msg = human("restore point limit")  # close to an entry, not enough to answer
    use_shortcut(slack, msg, channel="CTYPO", user="U6")
    note = slack.fake.wait_for("chat.postEphemeral", where=lambda c: c.params.get("user") == "U6")
    assert RP in note[0].all_text()
    assert slack.answers("CTYPO", msg["ts"]) == []


def test_a_reaction_is_ignored_when_no_emoji_is_configured(slack: Slack) -> None:
    msg = human(f"failed: {KNOWN}")
    slack.fake.set_thread("CREACT0", [msg])
    assert slack.client.event(reaction("CREACT0", msg["ts"])).status == 200
    slack.barrier()
    assert slack.answers("CREACT0", msg["ts"]) == []
    assert not slack.fake.calls("conversations.history")


def test_the_configured_reaction_explains_once_even_where_unasked_answers_are_off(
    start_bot: Callable[..., Slack], tmp_path: Any
) -> None:
    slack = start_bot(
        sqlite_url(tmp_path),
        BACKUP_FIX_CHANNELS="CLOUD",  # unasked answers only there
        BACKUP_FIX_EXPLAIN_EMOJI=f":{EMOJI}:",
    )
    msg = human(f"backup job failed: {RP}")
    slack.fake.set_thread("CQUIET", [msg])
    slack.paste(msg["text"], channel="CQUIET", ts=msg["ts"])  # silence: not an answering channel
    assert slack.client.event(reaction("CQUIET", msg["ts"], name="thumbsup")).status == 200
    assert slack.client.event(reaction("CQUIET", msg["ts"])).status == 200
    answer = slack.fake.wait_for("chat.postMessage", where=in_thread("CQUIET", msg["ts"]))[0]
    assert RP in answer.all_text()
    # A second person reacting: the message was explained once already.
    assert slack.client.event(reaction("CQUIET", msg["ts"], user="U3")).status == 200
    with contextlib.suppress(TimeoutError):
        slack.fake.wait_for(
            "chat.postMessage", count=2, where=in_thread("CQUIET", msg["ts"]), timeout=1.5
        )
    assert len(slack.answers("CQUIET", msg["ts"])) == 1
    # A reply in a thread: found through its thread, answered there.
    parent, reply = human("nightly run"), human(f"it says {KNOWN}")
    slack.fake.set_thread("CQUIET", [parent, {**reply, "thread_ts": parent["ts"]}])
    assert slack.client.event(reaction("CQUIET", reply["ts"])).status == 200
    answer = slack.fake.wait_for("chat.postMessage", where=in_thread("CQUIET", parent["ts"]))[0]
    assert KNOWN in answer.all_text()
    # The shortcut also works there.
    other = human(f"another one: {KNOWN}")
    use_shortcut(slack, other, channel="CQUIET")
    slack.fake.wait_for("chat.postMessage", where=in_thread("CQUIET", other["ts"]))
