"""Driving the bot's Azure actions the way Slack does: read what it posted, click what it showed.

``ActionSlack`` is the fake Slack Web API that also remembers the ``ts`` it gave every posted
message, so a click carries the real message ts and channel. ``Driver`` rebuilds a thread as the
user sees it (posts, ``chat.update`` edits, ``response_url`` replacements and ephemeral replies),
finds an element by ``action_id`` and sends the ``block_actions`` payload Slack would send.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tests.fakes import signing
from tests.fakes.arm import FakeArm
from tests.fakes.botproc import BotProcess
from tests.fakes.signing import BOT_ID, BOT_USER, SignedClient
from tests.fakes.slack_api import Call, FakeSlack, strings

APPROVE = "backup_fix.approve"
REJECT = "backup_fix.reject"
PICK_VM = "backup_fix.pick_vm"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What must never reach Slack: stack traces, SDK internals, tokens and secrets.
LEAKS = (
    "Traceback",
    'File "',
    "fake-token-for",
    "Bearer ",
    "identity-header-secret",
    "xoxb-",
    "HttpResponseError",
    "azure.core",
    "acceptance-signing-secret",
)
T = TypeVar("T")
REF = re.compile(r"(?i)ref(?:erence)?(?:[ _-]?id)?\s*[:=：]\s*`?([0-9a-z]{4,})")


def diagnose(name: str) -> str:
    """The ``action_id`` of a diagnostic button."""
    return f"backup_fix.diagnose.{name}"


def request(name: str) -> str:
    """The ``action_id`` of a remediation's request button."""
    return f"backup_fix.request.{name}"


class ActionSlack(FakeSlack):
    """The fake Slack Web API, remembering the ts it answered each ``chat.postMessage`` with."""

    def __init__(self) -> None:
        super().__init__()
        self._posted: dict[int, str] = {}
        self._posted_lock = threading.Lock()

    def answer(self, method: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        """Slack's answer; a posted message's ts is kept for ``ts_of``."""
        result = super().answer(method, params, token)
        if method == "chat.postMessage" and result.get("ok"):
            with self._posted_lock:
                # The recorded Call holds this very dict, so its identity names the message.
                self._posted[id(params)] = str(result["ts"])
        return result

    def ts_of(self, call: Call) -> str | None:
        """The ts Slack gave the message that ``call`` posted."""
        with self._posted_lock:
            return self._posted.get(id(call.params))


@dataclass
class Msg:
    """A message as a user sees it now (edits applied); ``private_to`` marks ephemeral ones."""

    channel: str
    ts: str
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]
    private_to: str | None = None
    edits: int = 0
    deleted: bool = False

    def all_text(self) -> str:
        """Every string in the text and blocks."""
        return "\n".join(strings({"t": self.text, "b": self.blocks}))

    def elements(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(block_id, element) for every interactive element."""
        for n, block in enumerate(self.blocks):
            block_id = str(block.get("block_id") or f"auto{n}")
            found = list(block.get("elements", []))
            if isinstance(block.get("accessory"), dict):
                found.append(block["accessory"])
            for element in found:
                if isinstance(element, dict) and "action_id" in element:
                    yield block_id, element

    def element(self, action_id: str) -> dict[str, Any] | None:
        """The first element with that ``action_id``."""
        return next((e for _, e in self.elements() if e["action_id"] == action_id), None)

    def action_ids(self) -> list[str]:
        """Every ``action_id`` in the message."""
        return [str(e["action_id"]) for _, e in self.elements()]


def options(element: dict[str, Any]) -> list[dict[str, Any]]:
    """A select's options, groups flattened, in the order shown."""
    found = list(element.get("options", []))
    for group in element.get("option_groups", []):
        found += group.get("options", [])
    return found


@dataclass(frozen=True)
class Click:
    """One click sent: who, on which message, and the response_url Slack gave the bot."""

    status: int
    body: bytes
    user: str
    channel: str
    message_ts: str
    response_url: str
    mark: int  # how many Slack calls the fake had received before the click


@dataclass
class Driver:
    """One bot process seen through the fake Slack."""

    fake: ActionSlack
    bot: BotProcess
    secret: str
    client: SignedClient = field(init=False)
    _clicks: dict[str, Click] = field(default_factory=dict)
    _seq: Iterator[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.client = SignedClient(self.bot.url, self.secret)

    # -- in ------------------------------------------------------------------------------------

    def paste(self, text: str, *, channel: str = "COPS", user: str = "UREQ1") -> str:
        """A user posts ``text`` in ``channel``; the new thread's root ts."""
        event = signing.message(text, channel=channel, user=user)
        resp = self.client.event(event)
        assert resp.status == 200, resp.body
        return str(event["ts"])

    def click(
        self,
        msg: Msg,
        element: dict[str, Any],
        *,
        user: str,
        value: str | None = None,
        option: dict[str, Any] | None = None,
    ) -> Click:
        """Send the ``block_actions`` Slack sends when ``user`` clicks ``element`` in ``msg``."""
        url = self.fake.response_url(f"c{next(self._seq)}")
        mark = len(self.fake.calls(include_failed=True))
        payload = self.payload(msg, element, user=user, value=value, option=option, url=url)
        resp = self.client.interaction(payload)
        done = Click(resp.status, resp.body, user, msg.channel, msg.ts, url, mark)
        self._clicks[_path(url)] = done
        return done

    def payload(
        self,
        msg: Msg,
        element: dict[str, Any],
        *,
        user: str,
        url: str,
        value: str | None = None,
        option: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The ``block_actions`` payload of a click (Slack echoes the message it was on)."""
        block_id = next((b for b, e in msg.elements() if e is element), "b1")
        action: dict[str, Any] = {
            "action_id": element["action_id"],
            "block_id": block_id,
            "type": element.get("type", "button"),
            "action_ts": signing.new_ts(),
        }
        if action["type"] == "button":
            action["text"] = element.get("text", {"type": "plain_text", "text": "button"})
            chosen = value if value is not None else element.get("value")
            if chosen is not None:
                action["value"] = chosen
        else:
            picked = option or options(element)[0]
            action["selected_option"] = picked
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": msg.ts,
            "channel_id": msg.channel,
            "is_ephemeral": msg.private_to is not None,
        }
        message: dict[str, Any] | None = None
        if msg.private_to is None:
            message = {
                "type": "message",
                "user": BOT_USER,
                "bot_id": BOT_ID,
                "ts": msg.ts,
                "text": msg.text,
                "blocks": msg.blocks,
            }
        if msg.thread_ts:
            container["thread_ts"] = msg.thread_ts
            if message is not None:
                message["thread_ts"] = msg.thread_ts
        return {
            "type": "block_actions",
            "team": {"id": signing.TEAM, "domain": "example"},
            "user": {"id": user, "username": user.lower(), "team_id": signing.TEAM},
            "api_app_id": signing.APP,
            "token": "legacy-verification-token",
            "trigger_id": f"{next(self._seq)}.1.abc",
            "container": container,
            "channel": {"id": msg.channel, "name": "ops"},
            "message": message,
            "state": {"values": {}},
            "response_url": url,
            "actions": [action],
        }

    # -- out -----------------------------------------------------------------------------------

    def thread(self, channel: str, root: str) -> list[Msg]:
        """The bot's messages in a thread as users see them now, oldest first."""
        messages: dict[str, Msg] = {}
        order: list[str] = []

        def add(msg: Msg) -> None:
            messages[msg.ts] = msg
            order.append(msg.ts)

        for n, call in enumerate(self.fake.calls()):
            p = call.params
            if call.method == "chat.postMessage" and p.get("channel") == channel:
                ts = self.fake.ts_of(call) or f"unknown{n}"
                if p.get("thread_ts") == root:
                    add(Msg(channel, ts, root, str(p.get("text") or ""), call.blocks))
            elif call.method == "chat.update" and str(p.get("ts")) in messages:
                _edit(messages[str(p["ts"])], p, call.blocks)
            elif call.method == "chat.postEphemeral" and p.get("channel") == channel:
                if p.get("thread_ts") in (root, None):
                    text = str(p.get("text") or "")
                    add(Msg(channel, f"eph{n}", root, text, call.blocks, str(p.get("user"))))
            elif call.method == "response_url":
                self._response(call, n, channel, messages, add)
        return [messages[ts] for ts in order if not messages[ts].deleted]

    def _response(
        self,
        call: Call,
        n: int,
        channel: str,
        messages: dict[str, Msg],
        add: Callable[[Msg], None],
    ) -> None:
        click = self._clicks.get(call.path)
        if click is None or click.channel != channel:
            return
        p = call.params
        target = messages.get(click.message_ts)
        if _truthy(p.get("delete_original")) and target is not None:
            target.deleted = True
        elif _truthy(p.get("replace_original")) and target is not None:
            _edit(target, p, call.blocks)
        elif p.get("response_type") == "in_channel":
            root = target.thread_ts if target is not None else None
            add(Msg(channel, f"resp{n}", root, str(p.get("text") or ""), call.blocks))
        else:
            root = target.thread_ts if target is not None else None
            text = str(p.get("text") or "")
            add(Msg(channel, f"resp{n}", root, text, call.blocks, click.user))

    def find(
        self,
        channel: str,
        root: str,
        action_id: str,
        *,
        timeout: float = 20.0,
        visible_to: str | None = None,
    ) -> tuple[Msg, dict[str, Any]]:
        """Wait until an element with ``action_id`` shows in the thread; the latest one."""

        def check() -> tuple[Msg, dict[str, Any]] | None:
            for msg in reversed(self.thread(channel, root)):
                if msg.private_to not in (None, visible_to):
                    continue
                element = msg.element(action_id)
                if element is not None:
                    return msg, element
            return None

        found = poll(check, timeout)
        if found is None:
            seen = [m.action_ids() for m in self.thread(channel, root)]
            raise AssertionError(
                f"no {action_id} in the thread after {timeout}s; saw {seen}\n{self.log_tail()}"
            )
        return found

    def has(self, channel: str, root: str, action_id: str) -> bool:
        """True when any message of the thread shows ``action_id`` now."""
        return any(action_id in m.action_ids() for m in self.thread(channel, root))

    def wait_thread(
        self,
        channel: str,
        root: str,
        where: Callable[[Msg], bool],
        *,
        timeout: float = 30.0,
        what: str = "a matching message",
    ) -> Msg:
        """Wait until a message of the thread (as shown now) satisfies ``where``."""

        def check() -> Msg | None:
            return next((m for m in self.thread(channel, root) if where(m)), None)

        found = poll(check, timeout)
        if found is None:
            texts = [m.all_text()[:300] for m in self.thread(channel, root)]
            raise AssertionError(
                f"no {what} in the thread after {timeout}s; saw {texts}\n{self.log_tail()}"
            )
        return found

    def private(self, click: Click, *, timeout: float = 15.0) -> str:
        """The text only the clicker saw after ``click`` (ephemeral post or response_url)."""

        def check() -> str | None:
            for call in self.fake.calls()[click.mark :]:
                p = call.params
                if call.method == "chat.postEphemeral" and p.get("user") == click.user:
                    return "\n".join(strings({"t": p.get("text"), "b": call.blocks}))
                if (
                    call.method == "response_url"
                    and call.path == _path(click.response_url)
                    and not _truthy(p.get("replace_original"))
                    and p.get("response_type") != "in_channel"
                ):
                    return "\n".join(strings({"t": p.get("text"), "b": call.blocks}))
            return None

        found = poll(check, timeout)
        if found is None:
            seen = [(c.method, c.params.get("user")) for c in self.fake.calls()[click.mark :]]
            raise AssertionError(f"no private reply to {click.user} in {timeout}s; saw {seen}")
        return str(found)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the bot's stderr, for failure messages."""
        return "bot stderr:\n" + self.bot.stderr[-chars:]

    def slack_text(self) -> str:
        """Everything the bot sent to Slack so far (for leak checks)."""
        return "\n".join(c.all_text() for c in self.fake.calls(include_failed=True))


def _edit(msg: Msg, params: dict[str, Any], blocks: list[dict[str, Any]]) -> None:
    msg.text = str(params.get("text") or msg.text)
    if "blocks" in params:
        msg.blocks = blocks
    msg.edits += 1


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"true", "1"}


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def poll(check: Callable[[], T | None], timeout: float, interval: float = 0.05) -> T | None:
    """Call ``check`` until it returns something truthy or ``timeout``; that value or None."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


# -- Azure side -----------------------------------------------------------------------------------


def mutations(arm: FakeArm, *, succeeded_only: bool = True) -> list[str]:
    """``METHOD path`` of every mutating request the fake ARM received (answered < 400)."""
    with arm.lock:
        return [
            f"{r.method} {r.path}"
            for r in arm.requests
            if r.method in MUTATING and (not succeeded_only or 0 < r.status < 400)
        ]


def touched(arm: FakeArm, part: str) -> list[str]:
    """Every request whose path mentions ``part`` (any case)."""
    with arm.lock:
        return [f"{r.method} {r.path}" for r in arm.requests if part.lower() in r.path.lower()]


def settle(seconds: float = 1.0) -> None:
    """Give stray background work a moment to show (used before asserting that nothing happened)."""
    with contextlib.suppress(Exception):
        time.sleep(seconds)


def ref_of(text: str) -> str | None:
    """The reference id in a user-facing failure sentence, or None."""
    found = REF.search(text)
    return found.group(1) if found else None


def no_leaks(text: str) -> list[str]:
    """Which forbidden strings (stack traces, tokens, SDK internals) occur in ``text``."""
    return [leak for leak in LEAKS if leak in text]


def value_json(element: dict[str, Any]) -> Any:
    """A button's value parsed as JSON, or the raw string when it is not JSON."""
    raw = str(element.get("value", ""))
    try:
        return json.loads(raw)
    except ValueError:
        return raw
