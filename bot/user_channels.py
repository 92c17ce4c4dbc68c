"""The channels a Slack user is in (``users.conversations``), cached per user, for the Home tab.

Public and private channels, paged, at most ``max_pages`` pages (a user in more channels than that
sees the incidents of the first ones). Answers are kept ``ttl`` seconds, failures ``failure_ttl``
seconds, for at most ``max_users`` users (the oldest entry goes first). Private channels come back
only when the bot is in them too, which is where incidents are posted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

TYPES: Final = "public_channel,private_channel"
PAGE_SIZE: Final = 200  # Slack's advice for paged methods
MAX_PAGES: Final = 10
TTL: Final = 300.0  # seconds: a channel joined shows within five minutes
FAILURE_TTL: Final = 30.0
MAX_USERS: Final = 1000


class UserChannels:
    """``channels(client, user)``: the ids of the channels ``user`` is in; None when Slack
    could not say (the caller then shows nothing rather than everything)."""

    def __init__(
        self,
        *,
        ttl: float = TTL,
        failure_ttl: float = FAILURE_TTL,
        max_users: int = MAX_USERS,
        max_pages: int = MAX_PAGES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl, self._failure_ttl = ttl, failure_ttl
        self._max_users, self._max_pages = max_users, max_pages
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, frozenset[str] | None]] = OrderedDict()
        self._lock = threading.Lock()

    def channels(self, client: Any, user: str) -> frozenset[str] | None:
        """The channel ids ``user`` is a member of (cached), or None when the lookup failed."""
        now = self._clock()
        with self._lock:
            hit = self._cache.get(user)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = self._ask(client, user)
        expires = now + (self._ttl if found is not None else self._failure_ttl)
        with self._lock:
            self._cache[user] = (expires, found)
            self._cache.move_to_end(user)
            while len(self._cache) > self._max_users:
                self._cache.popitem(last=False)
        return found

    def _ask(self, client: Any, user: str) -> frozenset[str] | None:
        found: set[str] = set()
        cursor = ""
        try:
            for _ in range(self._max_pages):
                resp = client.users_conversations(
                    user=user,
                    types=TYPES,
                    exclude_archived=True,
                    limit=PAGE_SIZE,
                    cursor=cursor or None,
                )
                for channel in resp.get("channels") or []:
                    if isinstance(channel, dict) and channel.get("id"):
                        found.add(str(channel["id"]))
                cursor = str((resp.get("response_metadata") or {}).get("next_cursor") or "")
                if not cursor:
                    break
        except (SlackApiError, SlackClientError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            log.warning("users.conversations failed", extra={"error": error or type(exc).__name__})
            return None
        return frozenset(found)
