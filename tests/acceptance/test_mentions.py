"""``@backup-fix``: threaded answers; a bare mention in a thread reads the thread's parent."""

from __future__ import annotations

from tests.acceptance.conftest import KNOWN, Slack
from tests.fakes import signing


def test_mention_with_text_answers_in_a_thread(slack: Slack) -> None:
    event = signing.mention(f"what is {KNOWN}?", channel="CMENTION")
    assert slack.client.event(event).status == 200
    answer = slack.wait_answer("CMENTION", event["ts"])
    assert KNOWN in answer.all_text()


def test_bare_mention_in_a_thread_matches_the_parent_message(slack: Slack) -> None:
    parent = {"type": "message", "user": "U2", "text": f"nightly backup: {KNOWN}"}
    parent["ts"] = signing.new_ts()
    mention = signing.mention("", channel="CBARE", thread_ts=parent["ts"])
    reply_msg = {"type": "message", "user": "U1", "text": mention["text"], "ts": mention["ts"]}
    reply_msg["thread_ts"] = parent["ts"]
    slack.fake.set_thread("CBARE", [dict(parent, thread_ts=parent["ts"]), reply_msg])
    assert slack.client.event(mention).status == 200
    answer = slack.wait_answer("CBARE", parent["ts"])
    assert KNOWN in answer.all_text()


def test_mention_delivered_also_as_a_message_is_answered_once(slack: Slack) -> None:
    mention = signing.mention(KNOWN, channel="CBOTH")
    message = signing.message(mention["text"], channel="CBOTH", ts=mention["ts"])
    assert slack.client.event(message).status == 200
    assert slack.client.event(mention).status == 200
    slack.wait_answer("CBOTH", mention["ts"])
    slack.barrier()
    assert len(slack.answers("CBOTH", mention["ts"])) == 1
