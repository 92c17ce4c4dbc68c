"""``incidents.post.SlackPort`` over slack_sdk: the outbox's Slack calls.

Its own WebClient retries connection errors but not 429s: the outbox holds the channel for the
Retry-After instead (across replicas), where the app's client would sleep on it.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot.app import slack_ssl
from bot.blocks.pack import Reply
from bot.settings import Settings
from incidents.post import RateLimited, SlackRefused

# Slack errors no retry can mend: the outbox gives those rows up at once.
FINAL = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "msg_too_long",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "message_not_found",
        "cant_update_message",
    }
)
HISTORY_PAGES = 5  # conversations.history pages read when looking for a message


def outbox_client(settings: Settings) -> WebClient:
    """A WebClient on SLACK_API_URL that hands 429s back instead of sleeping on them."""
    return WebClient(
        token=settings.bot_token(),
        base_url=settings.slack_api_url,
        ssl=slack_ssl(settings),
        timeout=10,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2)],
    )


class SlackOutbox:
    """Posts, updates and finds incident messages."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(
        self, channel: str, reply: Reply, *, thread_ts: str | None = None, metadata: Any = None
    ) -> str:
        """chat.postMessage; the new message's ts."""
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        if metadata is not None:
            extra["metadata"] = metadata
        resp = self._call(
            lambda: self.client.chat_postMessage(
                channel=channel, text=reply.text, blocks=reply.blocks, unfurl_links=False, **extra
            )
        )
        return str(resp.get("ts") or "")

    def update(self, channel: str, ts: str, reply: Reply) -> None:
        """chat.update of a message the bot posted."""
        self._call(
            lambda: self.client.chat_update(
                channel=channel, ts=ts, text=reply.text, blocks=reply.blocks
            )
        )

    def find(self, channel: str, *, since: datetime, event_type: str, payload: Any) -> str | None:
        """The ts of a top-level message since ``since`` whose metadata is ``payload``."""
        cursor = None
        for _ in range(HISTORY_PAGES):
            page = partial(
                self.client.conversations_history,
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            resp = self._call(page)
            for message in resp.get("messages") or []:
                meta = message.get("metadata") or {}
                if meta.get("event_type") == event_type and meta.get("event_payload") == payload:
                    return str(message.get("ts"))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _call(self, call: Any) -> Any:
        try:
            return call()
        except SlackApiError as exc:
            status = exc.response.status_code
            if status == 429:
                raise RateLimited(_retry_after(exc.response.headers)) from exc
            error = str(exc.response.get("error") or f"http_{status}")
            raise SlackRefused(error, final=error in FINAL) from exc
        except (SlackClientError, OSError) as exc:
            raise SlackRefused(type(exc).__name__, final=False) from exc


def _retry_after(headers: Any) -> float:
    for name in ("Retry-After", "retry-after"):
        raw = headers.get(name) if headers else None
        if raw:
            try:
                return max(float(raw if isinstance(raw, str) else raw[0]), 0.0)
            except (ValueError, IndexError):
                break
    return 1.0
