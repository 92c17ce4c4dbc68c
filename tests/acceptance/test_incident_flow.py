"""The incident flow end to end: real alert payloads POSTed to a running ``serve --http`` end in one
Slack message per incident on the fake Slack, edited and threaded on a repeat, resolved on a
success; a throttled Slack (429 with Retry-After) loses nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import alert_samples as samples
from tests.acceptance.conftest import SECRET, bot_env, sqlite_url
from tests.fakes.botproc import BotProcess
from tests.fakes.signing import Response, SignedClient
from tests.fakes.slack_api import Call, FakeSlack

TOKEN = "acceptance-incident-token-7d1e4a"
CHANNEL = "CINCIDENTS"
ROUTED = "CAPPVAULT"


class Flow:
    """Posts alerts to one bot and reads what reached the fake Slack."""

    def __init__(self, bot: BotProcess, fake: FakeSlack) -> None:
        self.bot, self.fake = bot, fake
        self.client = SignedClient(bot.url, SECRET)

    def post(self, document: dict[str, object]) -> Response:
        headers = {"Content-Type": "application/json"}
        path = f"/azure/alerts?token={TOKEN}"
        return self.client.request("POST", path, samples.body(document), headers)

    def roots(self, channel: str = ROUTED) -> list[Call]:
        return [
            c
            for c in self.fake.calls("chat.postMessage")
            if c.params.get("channel") == channel and not c.params.get("thread_ts")
        ]

    def wait_root(self, item: str, timeout: float = 20.0) -> Call:
        def mine(c: Call) -> bool:
            return not c.params.get("thread_ts") and item in str(c.params.get("text"))

        return self.fake.wait_for("chat.postMessage", 1, timeout, where=mine)[0]


@pytest.fixture
def flow(fake: FakeSlack, tmp_path: Path) -> Iterator[Flow]:
    fake.reset()
    fake.keep_posts = True
    env = bot_env(
        fake,
        sqlite_url(tmp_path),
        BACKUP_FIX_VAULTS=samples.APP_VAULT,
        BACKUP_FIX_ALERT_TOKEN=TOKEN,
        BACKUP_FIX_ALERT_CHANNEL=CHANNEL,
        BACKUP_FIX_ALERT_ROUTES=f"{samples.APP_SUB}={ROUTED}",
    )
    bot = BotProcess(env).start()
    yield Flow(bot, fake)
    bot.stop()
    fake.keep_posts = False
    fake.clear_failures()
    assert "Traceback" not in bot.stderr, bot.stderr[-3000:]


def test_one_message_per_incident_updated_on_a_repeat_and_resolved(flow: Flow) -> None:
    first = samples.mars(server="srv-file-01")
    for _ in range(3):  # the action group's retries: one alert
        assert flow.post(first).status == 202
    root = flow.wait_root("srv-file-01")
    assert root.params["channel"] == ROUTED  # the subscription's route beats the default
    assert root.params["metadata"]["event_type"] == "backup_fix_incident"
    said = root.all_text()
    assert "SalVhdInitializationError" in said
    assert "Open the alert in the Azure portal" in said
    # A second failure of the same item and code: the same message, edited, and a thread line.
    second = samples.mars(server="srv-file-01")
    assert flow.post(second).status == 202
    update = flow.fake.wait_for(
        "chat.update", 1, 20.0, where=lambda c: "failed 2 times since" in c.all_text()
    )[-1]
    line = flow.fake.wait_for(
        "chat.postMessage", 1, 20.0, where=lambda c: "Failed again" in c.all_text()
    )[0]
    assert line.params["thread_ts"] == update.params["ts"]
    assert len(flow.roots()) == 1
    # The item backs up again (a Resolved alert): the message says so, and the thread too.
    assert flow.post(samples.resolved(second)).status == 202
    flow.fake.wait_for(
        "chat.update", 1, 20.0, where=lambda c: c.params["text"].startswith("Resolved")
    )
    done = flow.fake.wait_for(
        "chat.postMessage", 1, 20.0, where=lambda c: "succeeded at" in c.all_text()
    )[0]
    assert done.params["thread_ts"] == update.params["ts"]
    assert len(flow.roots()) == 1


def test_a_throttled_slack_loses_no_incident(flow: Flow) -> None:
    flow.fake.fail_next("chat.postMessage", times=4, status=429, retry_after=1)
    servers = [f"srv-storm-{n}" for n in range(4)]
    for server in servers:
        assert flow.post(samples.mars(server=server)).status == 202
    for server in servers:
        flow.wait_root(server, timeout=30.0)
    refused = [
        c for c in flow.fake.calls("chat.postMessage", include_failed=True) if c.status == 429
    ]
    assert len(refused) == 4
    texts = [json.dumps(c.params.get("text")) for c in flow.roots()]
    assert all(sum(server in t for t in texts) == 1 for server in servers)  # each exactly once
