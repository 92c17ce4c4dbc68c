"""Slack retries never produce a second reply: across restarts and replicas of one database."""

from __future__ import annotations

from collections.abc import Callable

from tests.acceptance.conftest import KNOWN, Slack
from tests.fakes import signing


def test_retry_with_the_same_event_id_is_not_answered_twice(slack: Slack) -> None:
    envelope = signing.event_envelope(signing.message(KNOWN, channel="CRETRY"))
    ts = envelope["event"]["ts"]
    assert slack.client.envelope(envelope).status == 200
    slack.wait_answer("CRETRY", ts)
    assert slack.client.envelope(envelope, retry=1).status == 200
    assert slack.client.envelope(envelope, retry=2).status == 200
    slack.barrier()
    assert len(slack.answers("CRETRY", ts)) == 1


def test_retry_after_a_restart_is_not_answered(
    start_bot: Callable[..., Slack], db_url: str
) -> None:
    first = start_bot(db_url)
    envelope = signing.event_envelope(signing.message(KNOWN, channel="CRESTART"))
    ts = envelope["event"]["ts"]
    assert first.client.envelope(envelope).status == 200
    first.wait_answer("CRESTART", ts)
    assert first.bot.stop() is not None
    second = start_bot(db_url)
    assert second.client.envelope(envelope, retry=1).status == 200
    second.barrier()
    assert len(second.answers("CRESTART", ts)) == 1


def test_retry_to_another_replica_is_not_answered(
    start_bot: Callable[..., Slack], db_url: str
) -> None:
    one, two = start_bot(db_url), start_bot(db_url)
    envelope = signing.event_envelope(signing.message(KNOWN, channel="CREPLICA"))
    ts = envelope["event"]["ts"]
    assert one.client.envelope(envelope).status == 200
    one.wait_answer("CREPLICA", ts)
    assert two.client.envelope(envelope, retry=1).status == 200
    two.barrier()
    one.barrier("CBARRIER2")
    assert len(two.answers("CREPLICA", ts)) == 1
