"""Build and sign requests the way Slack does (v0 HMAC-SHA256 over ``v0:<ts>:<body>``)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import select
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

TEAM = "T1"
APP = "A1"
BOT_USER = "UBOT"
BOT_ID = "BBOT"

_seq = itertools.count(1)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, *, content_type: str, timestamp: int | None = None
) -> dict[str, str]:
    """Headers of a request Slack signed now (or at ``timestamp``)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(secret, ts, body),
    }


def new_ts() -> str:
    """A fresh, unique Slack message timestamp."""
    return f"{int(time.time())}.{next(_seq):06d}"


def new_event_id() -> str:
    """A fresh, unique ``event_id``."""
    return "Ev" + uuid.uuid4().hex[:12].upper()


def message(
    text: str,
    *,
    channel: str = "C1",
    user: str | None = "U1",
    ts: str | None = None,
    thread_ts: str | None = None,
    subtype: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``message`` event as Slack delivers it for a public channel."""
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
    }
    if user is not None:
        event["user"] = user
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    if subtype is not None:
        event["subtype"] = subtype
    event.update(extra)
    return event


def mention(
    text: str, *, channel: str = "C1", user: str = "U1", thread_ts: str | None = None
) -> dict[str, Any]:
    """An ``app_mention`` event; ``text`` follows the bot's mention."""
    ts = new_ts()
    event: dict[str, Any] = {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@{BOT_USER}> {text}".rstrip(),
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def event_envelope(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """The ``event_callback`` envelope around ``event``."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": APP,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(time.time()),
        "authorizations": [
            {"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER, "is_bot": True}
        ],
        "is_ext_shared_channel": False,
    }


def command_form(
    text: str, *, response_url: str, channel: str = "C1", user: str = "U1"
) -> dict[str, str]:
    """The fields of a ``/backup-fix`` slash command."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": "ops",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/backup-fix",
        "text": text,
        "api_app_id": APP,
        "response_url": response_url,
        "trigger_id": f"{next(_seq)}.1.abc",
    }


def block_action(
    action: dict[str, Any],
    *,
    response_url: str,
    channel: str = "C1",
    user: str = "U1",
    message_ts: str | None = None,
    thread_ts: str | None = None,
    ephemeral: bool = False,
) -> dict[str, Any]:
    """A ``block_actions`` payload for a click on the button ``action`` (as the bot rendered it)."""
    ts = message_ts or new_ts()
    clicked = {
        "action_id": action["action_id"],
        "block_id": action.get("block_id", "b1"),
        "type": "button",
        "action_ts": new_ts(),
        "text": action.get("text", {"type": "plain_text", "text": "button"}),
    }
    if "value" in action:
        clicked["value"] = action["value"]
    msg: dict[str, Any] = {"type": "message", "ts": ts, "text": "", "blocks": []}
    if thread_ts:
        msg["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": APP,
        "token": "legacy-verification-token",
        "trigger_id": f"{next(_seq)}.1.def",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "channel": {"id": channel, "name": "ops"},
        "message": None if ephemeral else msg,
        "response_url": response_url,
        "actions": [clicked],
    }


def view_submission(
    view: dict[str, Any],
    *,
    user: str,
    values: dict[str, dict[str, dict[str, Any]]],
    view_id: str = "V1",
) -> dict[str, Any]:
    """A ``view_submission`` payload: ``view`` (as the bot opened it) submitted by ``user``
    with ``values`` as ``view.state.values`` (block_id -> action_id -> element state)."""
    submitted = {
        **view,
        "id": view.get("id", view_id),
        "team_id": TEAM,
        "app_id": APP,
        "bot_id": BOT_ID,
        "hash": view.get("hash", f"{next(_seq)}.hash"),
        "state": {"values": values},
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": APP,
        "token": "legacy-verification-token",
        "trigger_id": f"{next(_seq)}.1.ghi",
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
    }


@dataclass(frozen=True)
class Response:
    """What the bot answered to one HTTP request."""

    status: int
    body: bytes
    headers: dict[str, str]
    seconds: float

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class SignedClient:
    """POSTs signed requests to the bot's ``/slack/events`` and GETs its other endpoints."""

    def __init__(self, base_url: str, secret: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.secret = secret
        self.timeout = timeout

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        """One request on a fresh connection."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body or None, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, data, dict(resp.getheaders()), time.perf_counter() - start)
        finally:
            conn.close()

    def post_oversized(self, body: bytes, *, content_type: str) -> int:
        """POST a big signed body the way a client does, reading an early answer; the status.

        A server that refuses by Content-Length answers and closes before the body is in, so the
        body is sent in chunks and sending stops as soon as an answer is readable.
        """
        headers = signed_headers(self.secret, body, content_type=content_type)
        head = f"POST /slack/events HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(head.encode())
            for start in range(0, len(body), 65536):
                if select.select([sock], [], [], 0)[0]:
                    break
                try:
                    sock.sendall(body[start : start + 65536])
                except OSError:
                    break
            resp = http.client.HTTPResponse(sock)
            resp.begin()
            return resp.status

    def get(self, path: str) -> Response:
        """GET ``path`` (``/healthz``, ``/metrics``)."""
        return self.request("GET", path)

    def post_raw(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | None = None,
        secret: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> Response:
        """POST ``body`` to ``/slack/events`` signed with ``secret`` (default: the right one)."""
        headers = signed_headers(
            secret or self.secret, body, content_type=content_type, timestamp=timestamp
        )
        headers.update(extra or {})
        return self.request("POST", "/slack/events", body, headers)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> Response:
        """POST ``event`` in its envelope; ``retry`` adds Slack's retry headers."""
        body = json.dumps(event_envelope(event, event_id=event_id)).encode()
        extra = {}
        if retry is not None:
            extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post_raw(body, content_type="application/json", extra=extra)

    def envelope(self, envelope: dict[str, Any], *, retry: int | None = None) -> Response:
        """POST a ready-made envelope (to resend the very same event)."""
        extra = {}
        if retry is not None:
            extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        body = json.dumps(envelope).encode()
        return self.post_raw(body, content_type="application/json", extra=extra)

    def command(self, text: str, *, response_url: str, **kw: str) -> Response:
        """POST ``/backup-fix <text>`` as a form."""
        body = urlencode(command_form(text, response_url=response_url, **kw)).encode()
        return self.post_raw(body, content_type="application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> Response:
        """POST an interactivity payload (``payload=<json>`` form)."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post_raw(body, content_type="application/x-www-form-urlencoded")
