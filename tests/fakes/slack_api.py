"""A fake Slack Web API on 127.0.0.1 that records every call and answers like Slack.

Methods answer the way Slack does for the shapes the bot uses (modals: ``views.open`` and
``views.update`` answer with the view, its id and hash; ``views.publish`` keeps each user's Home
tab in ``homes``; ``users.conversations`` pages through ``memberships``;
``conversations.history`` and ``.replies`` find a message by its ts, a thread reply included);
anything else gets ``{"ok": true}`` and is still recorded, so a test can see it. ``fail_next``
injects 429 (with ``Retry-After``) or 5xx answers. ``/response/<id>`` plays a slash command's
or button's ``response_url``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .signing import BOT_ID, BOT_USER, TEAM

RESPONSE_URL = "response_url"
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view")


@dataclass(frozen=True)
class Call:
    """One request the fake received; ``method`` is ``response_url`` for response URLs."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int
    path: str
    at: float = field(default_factory=time.monotonic)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The Block Kit blocks sent (empty when none)."""
        blocks = self.params.get("blocks") or []
        return blocks if isinstance(blocks, list) else []

    @property
    def token(self) -> str:
        """The token the call carried (Authorization header or ``token`` field)."""
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth else str(self.params.get("token", ""))

    def all_text(self) -> str:
        """Every string in the call's text and blocks, joined: for ``in`` assertions."""
        return "\n".join(strings({"text": self.params.get("text"), "blocks": self.blocks}))


def strings(value: Any) -> Iterator[str]:
    """Every string inside nested dicts and lists (a message's text and blocks), in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button element in ``blocks`` (actions and section accessories)."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        elements = list(block.get("elements", []))
        if "accessory" in block:
            elements.append(block["accessory"])
        found += [e for e in elements if isinstance(e, dict) and e.get("type") == "button"]
    return found


@dataclass
class _Failure:
    remaining: int
    status: int
    retry_after: int


class FakeSlack:
    """The fake Web API server; use as a context manager or call ``start``/``stop``."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._cond = threading.Condition()
        self._failures: dict[str, _Failure] = {}
        self._ts = itertools.count(1)
        self.locales: dict[str, str] = {}
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.homes: dict[str, dict[str, Any]] = {}  # user -> the Home view last published
        # users.conversations: user -> the channel ids they are in, served ``page_limit`` a page
        # (Slack may return fewer than asked: a small page makes the caller follow the cursor).
        self.memberships: dict[str, list[str]] = {}
        self.page_limit = 2
        # True: posted messages join ``threads`` (history and replies find them, metadata kept).
        self.keep_posts = False
        self.socket_url: str | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.getPermalink": self._chat_get_permalink,
            "users.info": self._users_info,
            "users.conversations": self._users_conversations,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """The value for ``SLACK_API_URL``."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "") -> str:
        """A fresh response_url that lands here (recorded as method ``response_url``)."""
        return f"{self.base_url}/response/{name or next(self._ts)}"

    # -- configuration -----------------------------------------------------------------------

    def fail_next(
        self, method: str, times: int = 1, *, status: int = 429, retry_after: int = 1
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``status`` (429 adds Retry-After)."""
        with self._cond:
            self._failures[method] = _Failure(times, status, retry_after)

    def clear_failures(self) -> None:
        """Stop injecting failures."""
        with self._cond:
            self._failures.clear()

    def set_thread(self, channel: str, messages: list[dict[str, Any]]) -> None:
        """Serve ``messages`` (parent first) for conversations.replies/history in ``channel``."""
        self.threads[(channel, str(messages[0]["ts"]))] = messages

    # -- inspection --------------------------------------------------------------------------

    def calls(self, method: str | None = None, *, include_failed: bool = False) -> list[Call]:
        """Calls received so far, oldest first (successful ones unless ``include_failed``)."""
        with self._cond:
            return [
                c
                for c in self._calls
                if (method is None or c.method == method) and (include_failed or c.status == 200)
            ]

    def reset(self) -> None:
        """Forget recorded calls and injected failures (keeps locales and threads)."""
        with self._cond:
            self._calls.clear()
            self._failures.clear()

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        *,
        where: Callable[[Call], bool] | None = None,
        include_failed: bool = False,
    ) -> list[Call]:
        """Block until ``count`` matching calls arrived; return them all, or raise on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls(method, include_failed=include_failed)]
                found = [c for c in found if where is None or where(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.status) for c in self._calls]
                    raise TimeoutError(
                        f"{count} x {method} not received in {timeout}s; got {len(found)}; "
                        f"all calls: {seen}"
                    )
                self._cond.wait(left)

    def wait_any(
        self, methods: tuple[str, ...], where: Callable[[Call], bool], timeout: float = 10.0
    ) -> Call:
        """Block until one successful call of any of ``methods`` satisfies ``where``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for c in self._calls:
                    if c.method in methods and c.status == 200 and where(c):
                        return c
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.status) for c in self._calls]
                    raise TimeoutError(f"none of {methods} matched in {timeout}s; calls: {seen}")
                self._cond.wait(left)

    # -- answering ---------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _failure(self, method: str) -> _Failure | None:
        with self._cond:
            failure = self._failures.get(method)
            if failure is None or failure.remaining <= 0:
                return None
            failure.remaining -= 1
            return failure

    def _new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def answer(self, method: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        """Slack's answer to ``method`` called with ``params``."""
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return {"ok": False, "error": "not_allowed_token_type"}
            if self.socket_url is None:
                return {"ok": False, "error": "no_socket_server"}
            return {"ok": True, "url": self.socket_url}
        if not token:
            return {"ok": False, "error": "not_authed"}
        handler = self._methods.get(method)
        if handler is None:
            return {"ok": True}
        result: dict[str, Any] = handler(params)
        return result

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://example.slack.com/",
            "team": "Example",
            "user": "backup-fix",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._new_ts()
        message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts}
        message.update({k: params[k] for k in ("text", "blocks", "thread_ts") if k in params})
        if self.keep_posts:
            self._keep(str(params["channel"]), message, params.get("metadata"))
        return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}

    def _keep(self, channel: str, message: dict[str, Any], metadata: Any) -> None:
        if isinstance(metadata, dict):
            message["metadata"] = metadata
        with self._cond:
            parent = message.get("thread_ts")
            if parent and (channel, str(parent)) in self.threads:
                self.threads[(channel, str(parent))].append(message)
            elif not parent:
                self.threads[(channel, str(message["ts"]))] = [message]

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel") or not params.get("user"):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": self._new_ts()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}

    def _chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = str(params.get("message_ts", "")).replace(".", "")
        link = f"https://example.slack.com/archives/{params.get('channel')}/p{ts}"
        return {"ok": True, "channel": params.get("channel"), "permalink": link}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user", ""))
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM,
            "name": user_id.lower(),
            "is_bot": user_id == BOT_USER,
            "tz": "UTC",
        }
        if str(params.get("include_locale", "")).lower() in {"true", "1"}:
            user["locale"] = self.locales.get(user_id, "en-US")
        return {"ok": True, "user": user}

    def _users_conversations(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user") or "")
        if not user:
            return {"ok": False, "error": "invalid_arguments"}  # the bot's own list: never wanted
        start = int(params.get("cursor") or 0)
        size = min(int(params.get("limit") or 100), self.page_limit)
        mine = self.memberships.get(user, [])
        page = [{"id": c, "is_channel": True} for c in mine[start : start + size]]
        more = str(start + size) if start + size < len(mine) else ""
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": more}}

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = str(params.get("usergroup", ""))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel")), str(params.get("ts"))
        key = (channel, ts)
        if key not in self.threads:
            # ``ts`` of a reply: Slack answers with that reply's thread, parent first.
            key = next(
                (k for k, msgs in self.threads.items() if k[0] == channel and _holds(msgs, ts)),
                key,
            )
        if key not in self.threads:
            return {"ok": False, "error": "thread_not_found"}
        messages = self.threads[key]
        inclusive = str(params.get("inclusive", "")).lower() in {"true", "1"}
        if params.get("oldest") or params.get("latest"):
            low, high = str(params.get("oldest") or "0"), str(params.get("latest") or "9" * 20)
            messages = [m for m in messages if _between(str(m.get("ts")), low, high, inclusive)]
        elif inclusive and str(params.get("limit")) == "1":
            messages = messages[:1]
        limit = int(params.get("limit") or 1000)
        # Slack puts the thread's parent first whatever the window.
        parent = self.threads[key][:1]
        if messages[:1] != parent and (params.get("oldest") or params.get("latest")):
            messages = parent + messages[:limit]
        return {"ok": True, "messages": messages, "has_more": False}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        # Top-level messages only (the first of each thread), newest first, up to ``latest``.
        channel = str(params.get("channel"))
        latest = str(params.get("latest") or "9" * 20)
        inclusive = str(params.get("inclusive", "")).lower() in {"true", "1"}
        found = [
            msgs[0]
            for (ch, ts), msgs in self.threads.items()
            if ch == channel and _between(ts, "0", latest, inclusive)
        ]
        found.sort(key=lambda m: _ts_key(str(m.get("ts"))), reverse=True)
        limit = int(params.get("limit") or 100)
        return {"ok": True, "messages": found[:limit], "has_more": len(found) > limit}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        user = str(params.get("user_id") or "")
        if not user or not isinstance(view, dict) or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        if len(view.get("blocks") or []) > 100:
            return {"ok": False, "error": "invalid_blocks"}
        n = next(self._ts)
        shown = {**view, "id": f"VH{n:07d}", "hash": f"{n}.home", "team_id": TEAM}
        with self._cond:
            self.homes[user] = shown
        return {"ok": True, "view": shown}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        # Slack refuses a modal without a trigger_id (they expire after 3 seconds).
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(params)

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("view_id") and not params.get("external_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(params, str(params.get("view_id") or ""))

    def _view(self, params: dict[str, Any], view_id: str = "") -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("title"):
            return {"ok": False, "error": "invalid_arguments"}
        n = next(self._ts)
        shown = {**view, "id": view_id or f"V{n:08d}", "hash": f"{n}.hash", "team_id": TEAM}
        return {"ok": True, "view": {**shown, "state": {"values": {}}}}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the recorded calls are the log

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                params = _parse(raw, self.headers.get("Content-Type", ""), parts.query)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if parts.path.startswith("/response/"):
                    method = RESPONSE_URL
                elif parts.path.startswith("/api/"):
                    method = parts.path.removeprefix("/api/")
                else:
                    fake._record(Call("404", params, headers, 404, parts.path))
                    self._send(404, {"ok": False, "error": "not_found"})
                    return
                failure = fake._failure(method)
                if failure is not None:
                    fake._record(Call(method, params, headers, failure.status, parts.path))
                    extra = {}
                    if failure.status == 429:
                        extra["Retry-After"] = str(failure.retry_after)
                    self._send(failure.status, {"ok": False, "error": "ratelimited"}, extra)
                    return
                if method == RESPONSE_URL:
                    fake._record(Call(method, params, headers, 200, parts.path))
                    self._send(200, {"ok": True})
                    return
                auth = headers.get("authorization", "").removeprefix("Bearer ")
                answer = fake.answer(method, params, auth or str(params.get("token", "")))
                fake._record(Call(method, params, headers, 200, parts.path))
                self._send(200, answer)

            def _send(
                self, status: int, body: dict[str, Any], extra: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds or 0), int((micros or "0").ljust(6, "0")[:6])


def _between(ts: str, low: str, high: str, inclusive: bool) -> bool:
    key, lo, hi = _ts_key(ts), _ts_key(low), _ts_key(high)
    return lo <= key <= hi if inclusive else lo < key < hi


def _holds(messages: list[dict[str, Any]], ts: str) -> bool:
    return any(str(m.get("ts")) == ts for m in messages)


def _parse(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query))
    if raw and "json" in content_type:
        body = json.loads(raw)
        if isinstance(body, dict):
            params.update(body)
    elif raw:
        params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    for name in _JSON_FIELDS:
        # Form-encoded calls carry these as JSON strings; tests want them parsed either way.
        if isinstance(params.get(name), str):
            with contextlib.suppress(ValueError):
                params[name] = json.loads(params[name])
    return params
