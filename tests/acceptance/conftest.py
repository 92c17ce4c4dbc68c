"""Fixtures: a fake Slack, the real bot as a subprocess, and a ``Slack`` driver tying them."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import signing
from tests.fakes.botproc import BotProcess
from tests.fakes.signing import SignedClient
from tests.fakes.slack_api import Call, FakeSlack, buttons, strings
from tests.postgres_target import postgres_url

SECRET = "acceptance-signing-secret"
PG_ENV = "BACKUP_FIX_TEST_POSTGRES_URL"
KNOWN = "UserErrorGuestAgentStatusUnavailable"
# Slack's limits (issue 3): a message, a text block, a button's text; and the notification text.
MAX_BLOCKS, MAX_TEXT, MAX_BUTTON, MAX_FALLBACK = 50, 3000, 75, 40000
REF = re.compile(r"(?i)\"?ref(erence)?([ _-]?id)?\"?\s*[:=]\s*\"?[0-9a-z]{4,}")


@dataclass
class Reply:
    """What reached the user: a message's text and blocks (from any channel Slack offers)."""

    text: str
    blocks: list[dict[str, Any]]
    via: str
    call: Call | None = None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every button in the reply."""
        return buttons(self.blocks)

    def button(self, action_id: str) -> dict[str, Any]:
        """The first button with ``action_id`` (fails the test when there is none)."""
        found = [b for b in self.buttons if b.get("action_id") == action_id]
        assert found, f"no {action_id} button in {[b.get('action_id') for b in self.buttons]}"
        return found[0]

    def all_text(self) -> str:
        """Every string in text and blocks."""
        return "\n".join(strings({"t": self.text, "b": self.blocks}))


def check_limits(blocks: list[dict[str, Any]], text: str) -> None:
    """Fail when a message breaks one of Slack's limits or lacks a notification text."""
    assert text.strip(), "no plain-text fallback"
    assert len(text) <= MAX_FALLBACK
    assert len(blocks) <= MAX_BLOCKS, f"{len(blocks)} blocks"
    for block in blocks:
        texts = [block.get("text"), *list(block.get("fields", []))]
        texts += [e for e in block.get("elements", []) if e.get("type") in {"mrkdwn", "plain_text"}]
        for t in texts:
            if isinstance(t, dict):
                assert len(t.get("text", "")) <= MAX_TEXT, f"text block of {len(t['text'])} chars"
        for b in buttons([block]):
            assert len(b["text"]["text"]) <= MAX_BUTTON, b["text"]["text"]


@dataclass
class Slack:
    """Drives one bot process through a fake Slack: sends signed requests, reads what it posted."""

    fake: FakeSlack
    bot: BotProcess
    client: SignedClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = SignedClient(self.bot.url, SECRET)

    def paste(self, text: str, **kw: Any) -> dict[str, Any]:
        """A user posts ``text`` (a message event); the event, after checking the 200."""
        event = signing.message(text, **kw)
        assert self.client.event(event).status == 200
        return event

    def answers(self, channel: str, thread_ts: str) -> list[Call]:
        """Successful chat.postMessage calls into that thread so far."""
        return [
            c
            for c in self.fake.calls("chat.postMessage")
            if c.params.get("channel") == channel and c.params.get("thread_ts") == thread_ts
        ]

    def wait_answer(self, channel: str, thread_ts: str, timeout: float = 10.0) -> Call:
        """Block until the bot answered in that thread."""

        def here(c: Call) -> bool:
            return c.params.get("channel") == channel and c.params.get("thread_ts") == thread_ts

        return self.fake.wait_for("chat.postMessage", where=here, timeout=timeout)[0]

    def barrier(self, channel: str = "CBARRIER") -> None:
        """Paste a known error and wait for its answer: everything sent before is handled."""
        event = self.paste(KNOWN, channel=channel)
        self.wait_answer(channel, event["ts"])
        # The reply to the barrier is in; a stray reply to earlier events would be too, give or
        # take the threads finishing; one short extra wait for those (it should time out).
        with contextlib.suppress(TimeoutError):
            self.fake.wait_for("chat.postMessage", count=10**6, timeout=0.3)

    def command(self, text: str, *, user: str = "U1", channel: str = "C1") -> Reply:
        """``/backup-fix text``; the answer only the caller sees (ack body or response_url)."""
        url = self.fake.response_url()
        resp = self.client.command(text, response_url=url, user=user, channel=channel)
        assert resp.status == 200, resp.body
        return self.private_reply(resp.body, url, user=user)

    def private_reply(self, ack_body: bytes, url: str, *, user: str) -> Reply:
        """The ephemeral reply: in the ack body, at the response_url, or chat.postEphemeral."""
        if ack_body.strip():
            try:
                body = json.loads(ack_body)
            except ValueError:
                body = {"text": ack_body.decode()}
            if isinstance(body, dict) and (body.get("blocks") or body.get("text")):
                return Reply(str(body.get("text", "")), body.get("blocks") or [], "ack")
        path = url.split("127.0.0.1", 1)[1].split("/", 1)[1]
        call = self.fake.wait_any(
            ("response_url", "chat.postEphemeral"),
            lambda c: (
                c.path == "/" + path
                or (c.method == "chat.postEphemeral" and c.params.get("user") == user)
            ),
        )
        return Reply(str(call.params.get("text", "")), call.blocks, call.method, call)

    def click(
        self, button: dict[str, Any], *, user: str = "U1", channel: str = "C1", **kw: Any
    ) -> tuple[int, bytes, str]:
        """Click ``button``; the HTTP status, body and the response_url given."""
        url = self.fake.response_url()
        payload = signing.block_action(button, response_url=url, user=user, channel=channel, **kw)
        resp = self.client.interaction(payload)
        return resp.status, resp.body, url

    def metrics(self) -> dict[str, float]:
        """``/metrics`` parsed: sample (with labels) -> value."""
        resp = self.client.get("/metrics")
        assert resp.status == 200
        samples: dict[str, float] = {}
        for line in resp.body.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeSlack]:
    """One fake Slack for the session (calls reset before each test)."""
    with FakeSlack() as f:
        yield f


def bot_env(fake: FakeSlack, db_url: str, **extra: str) -> dict[str, str]:
    """The environment the acceptance bot runs with."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "BACKUP_FIX_DATABASE_URL": db_url,
    }
    env.update(extra)
    return env


def sqlite_url(folder: Path) -> str:
    """A SQLite state store in ``folder``."""
    return f"sqlite:///{folder / 'state.db'}"


@pytest.fixture(scope="session")
def shared_bot(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """The default bot, shared by the tests that need no special settings."""
    db = sqlite_url(tmp_path_factory.mktemp("shared"))
    proc = BotProcess(bot_env(fake, db)).start()
    yield proc
    proc.stop()


@pytest.fixture
def slack(fake: FakeSlack, shared_bot: BotProcess) -> Iterator[Slack]:
    """The driver for the shared bot, with the fake's record cleared."""
    fake.reset()
    assert shared_bot.alive(), f"the shared bot died earlier:\n{shared_bot.stderr[-3000:]}"
    yield Slack(fake, shared_bot)
    fake.clear_failures()


@pytest.fixture
def start_bot(fake: FakeSlack) -> Iterator[Callable[..., Slack]]:
    """Start extra bots (own settings, restarts, replicas); each is stopped at the end."""
    started: list[BotProcess] = []
    fake.reset()

    def start(db_url: str, **extra: str) -> Slack:
        proc = BotProcess(bot_env(fake, db_url, **extra)).start()
        started.append(proc)
        return Slack(fake, proc)

    yield start
    for proc in started:
        proc.stop()
    fake.clear_failures()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The state store: SQLite in a temp folder, or the PostgreSQL of ``PG_ENV``."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url = postgres_url()
    return url


def wait_until(check: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``check`` until true or ``timeout``; whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()
