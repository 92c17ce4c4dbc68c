"""Where an incident goes (routing) and how the outbox reaches Slack (at Slack's pace).

Routes (BACKUP_FIX_ALERT_ROUTES) are ``scope=channel`` pairs; a scope is a vault id, a resource
group (``/subscriptions/<id>/resourceGroups/<rg>``) or a subscription id, and the most specific
scope that holds the vault wins, else BACKUP_FIX_ALERT_CHANNEL; neither: nothing is posted (the
incidents are still recorded).

``Poster.step`` sends one outbox row. A root message is claimed before it is posted and its ts
recorded after; a worker that died in between leaves a lease that runs out, and whoever takes
the row again first looks for the message in the channel (the port's ``find``, by the incident
and episode carried in the message's metadata) before posting, so a root is posted once. A 429
holds the channel for its Retry-After (every replica sees the hold: ``slack_pace``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import Engine

from bot.blocks.pack import Reply
from incidents import outbox
from incidents.render import repeat_reply, resolved_reply, root_reply
from incidents.state import IncidentState
from knowledge.loader import KnowledgeBase

log = logging.getLogger(__name__)

EVENT_TYPE: Final = "backup_fix_incident"  # the metadata event type of a root message
SEND_LEASE: Final = timedelta(seconds=60)
MAX_ATTEMPTS: Final = 8  # failures other than 429 before a row is given up
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_SUB = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_RG = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+$", re.I)
_VAULT = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"(?:Microsoft\.RecoveryServices/vaults|Microsoft\.DataProtection/backupVaults)/[^/]+$",
    re.I,
)


class RateLimited(Exception):
    """Slack answered 429; ``retry_after`` seconds before the channel takes another message."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


class SlackRefused(Exception):
    """Slack refused the call (``error`` is Slack's code); ``final`` when retrying cannot help."""

    def __init__(self, error: str, *, final: bool) -> None:
        super().__init__(error)
        self.error, self.final = error, final


class SlackPort(Protocol):
    """The few Slack calls the outbox makes (``bot.incident_slack`` implements them)."""

    def post(
        self, channel: str, reply: Reply, *, thread_ts: str | None = None, metadata: Any = None
    ) -> str:
        """chat.postMessage; the message's ts."""

    def update(self, channel: str, ts: str, reply: Reply) -> None:
        """chat.update."""

    def find(self, channel: str, *, since: datetime, event_type: str, payload: Any) -> str | None:
        """The ts of a top-level message since ``since`` carrying this metadata, or None."""


@dataclass(frozen=True)
class Routes:
    """Routing of vault ids to channels."""

    default: str | None = None
    scopes: tuple[tuple[str, str], ...] = ()  # (scope lower case, channel), most specific first

    @classmethod
    def parse(cls, pairs: Iterable[str], default: str | None = None) -> Routes:
        """``scope=channel`` pairs; ValueError naming the first bad one."""
        found: list[tuple[int, str, str]] = []
        for pair in pairs:
            scope, sep, channel = (p.strip() for p in pair.partition("="))
            if not sep or not _CHANNEL.match(channel):
                raise ValueError(f"{pair!r} is not scope=channel (a C… or G… channel id)")
            if _VAULT.match(scope):
                rank = 3
            elif _RG.match(scope):
                rank = 2
            elif _SUB.match(scope):
                rank, scope = 1, f"/subscriptions/{scope}"
            else:
                raise ValueError(
                    f"{scope!r} is not a vault id, /subscriptions/<id>/resourceGroups/<rg> "
                    "or a subscription id"
                )
            found.append((rank, scope.rstrip("/").lower(), channel))
        found.sort(key=lambda f: -f[0])
        return cls(default, tuple((scope, channel) for _, scope, channel in found))

    def channel_for(self, vault_id: str) -> str | None:
        """The channel for a vault: its most specific route, else the default (or None)."""
        vault = vault_id.rstrip("/").lower()
        for scope, channel in self.scopes:
            if vault == scope or vault.startswith(scope + "/"):
                return channel
        return self.default

    @property
    def on(self) -> bool:
        """True when anything is posted at all."""
        return bool(self.default or self.scopes)


class Poster:
    """Sends the outbox, one row per ``step``."""

    def __init__(
        self,
        engine: Engine,
        state: IncidentState,
        slack: SlackPort,
        kb: KnowledgeBase,
        *,
        actions_for: Callable[[str, str], Collection[str]] = lambda _vault, _channel: (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        interval: float = 1.0,
        on_sent: Callable[[str, Any], None] | None = None,
    ) -> None:
        self.engine, self.state, self.slack, self.kb = engine, state, slack, kb
        self.actions_for, self.clock, self.interval = actions_for, clock, interval
        self.on_sent = on_sent

    def step(self) -> int:
        """Send one due row; 1 when one was handled, 0 when nothing could go now."""
        now = self.clock()
        item = outbox.claim(self.engine, now, lease=SEND_LEASE, interval=self.interval)
        if item is None:
            return 0
        try:
            ts = self._send(item)
        except RateLimited as exc:
            until = now + timedelta(seconds=max(exc.retry_after, self.interval))
            outbox.hold_channel(self.engine, item.channel, until)
            outbox.retry(self.engine, item.id, at=until, error=str(exc))
            return 1
        except Exception as exc:
            final = isinstance(exc, SlackRefused) and exc.final
            error = exc.error if isinstance(exc, SlackRefused) else type(exc).__name__
            log.warning("outbox send failed", extra={"kind": item.kind, "error": error})
            if final or item.attempts >= MAX_ATTEMPTS:
                outbox.failed(self.engine, item.id, error=error)
            else:
                at = now + timedelta(seconds=min(5 * 2**item.attempts, 600))
                outbox.retry(self.engine, item.id, at=at, error=error)
            return 1
        done = self.clock()
        outbox.sent(self.engine, item.id, ts=ts, now=done)
        # The slot was taken before the call; Slack counts from when the message arrived.
        outbox.hold_channel(self.engine, item.channel, done + timedelta(seconds=self.interval))
        if self.on_sent is not None:
            self.on_sent(item.kind, item)
        return 1

    def _send(self, item: outbox.Item) -> str:
        if item.kind == "digest":
            data = json.loads(item.payload or "{}")
            reply = Reply(text=str(data.get("text", "")), blocks=list(data.get("blocks", [])))
            return self.slack.post(item.channel, reply)
        incident = self.state.get(int(item.incident_id or 0))
        if incident is None:
            raise SlackRefused("incident_gone", final=True)
        actions = self.actions_for(incident.vault_id, item.channel)
        if item.kind == "root":
            if incident.message_ts:  # recorded by a worker that died before settling the row
                return incident.message_ts
            # The key's digest too: ids start again in a new database posting to the same channel.
            digest = hashlib.sha256(incident.key.encode()).hexdigest()[:16]
            meta = {"incident": incident.id, "episode": incident.episode, "key": digest}
            ts = None
            if item.attempts > 1:  # an earlier attempt may have posted before it died
                ts = self.slack.find(
                    item.channel,
                    since=item.created_at - timedelta(minutes=1),
                    event_type=EVENT_TYPE,
                    payload=meta,
                )
            if ts is None:
                reply = root_reply(incident, self.kb, actions=actions)
                ts = self.slack.post(
                    item.channel,
                    reply,
                    metadata={"event_type": EVENT_TYPE, "event_payload": meta},
                )
            self.state.set_posted(incident.id, ts=ts, noted=incident.count)
            return ts
        assert incident.message_ts is not None  # claim() waits for the root's ts
        self.slack.update(
            item.channel, incident.message_ts, root_reply(incident, self.kb, actions=actions)
        )
        if item.kind == "resolve":
            return self.slack.post(
                item.channel, resolved_reply(incident), thread_ts=incident.message_ts
            )
        new = incident.count - incident.noted
        if new <= 0:
            return incident.message_ts  # told already (the root or an earlier line counted it)
        ts = self.slack.post(
            item.channel, repeat_reply(incident, new), thread_ts=incident.message_ts
        )
        self.state.set_noted(incident.id, incident.count)
        return ts
