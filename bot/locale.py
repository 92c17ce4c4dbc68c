"""The Slack user's language (users.info with include_locale), cached per user."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from knowledge.model import Lang

log = logging.getLogger(__name__)


def lang_of_locale(locale: str | None) -> Lang | None:
    """zh-* -> zh-TW, any other locale -> en, none -> None."""
    if not locale:
        return None
    return "zh-TW" if locale.lower().startswith("zh") else "en"


class LocaleCache:
    """users.info look-ups, remembered for ``ttl`` seconds (failures for a shorter while)."""

    def __init__(self, *, ttl: float = 3600.0, failure_ttl: float = 60.0) -> None:
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._cache: dict[str, tuple[Lang | None, float]] = {}
        self._lock = threading.Lock()

    def lang(self, client: WebClient, user: str | None) -> Lang | None:
        """The language of ``user``'s Slack locale, or None when it is unknown."""
        if not user:
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(user)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            resp = client.users_info(user=user, include_locale=True)
            found = lang_of_locale(str((resp.get("user") or {}).get("locale") or ""))
            expires = now + self._ttl
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("users.info failed", extra={"user": user, "error": type(exc).__name__})
            found, expires = None, now + self._failure_ttl
        with self._lock:
            self._cache[user] = (found, expires)
        return found
