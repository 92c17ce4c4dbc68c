"""Socket Mode: ``serve`` with ``SLACK_APP_TOKEN`` connects out, acks envelopes and answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.conftest import KNOWN, bot_env, sqlite_url
from tests.fakes import signing
from tests.fakes.botproc import BotProcess
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.socket_server import FakeSocketMode


@pytest.fixture
def socket_server(fake: FakeSlack) -> Iterator[FakeSocketMode]:
    fake.reset()
    with FakeSocketMode() as server:
        fake.socket_url = server.url
        yield server
    fake.socket_url = None


def test_events_api_envelope_is_acked_and_answered(
    fake: FakeSlack, socket_server: FakeSocketMode, tmp_path: Path
) -> None:
    env = bot_env(fake, sqlite_url(tmp_path), SLACK_APP_TOKEN="xapp-test")
    del env["SLACK_SIGNING_SECRET"]
    proc = BotProcess(env, args=("serve", "--host", "127.0.0.1", "--port", "0"))
    proc.start(wait_listening=False)
    try:
        socket_server.wait_connected(timeout=30)
        opened = fake.wait_for("apps.connections.open")[0]
        assert opened.token == "xapp-test"
        event = signing.message(f"failed: {KNOWN}", channel="CSOCKET")
        envelope_id = socket_server.push("events_api", signing.event_envelope(event))
        assert socket_server.wait_ack(envelope_id)["envelope_id"] == envelope_id

        def here(c: Call) -> bool:
            return c.params.get("channel") == "CSOCKET" and c.params.get("thread_ts") == event["ts"]

        answer = fake.wait_for("chat.postMessage", where=here)[0]
        assert KNOWN in answer.all_text()
        assert answer.token == "xoxb-test"
    finally:
        proc.stop()
