"""The approval gate: who may decide a remediation request, and when. Pure: no Slack, no I/O.

A request moves ``pending -> approved -> running -> succeeded | failed``, or ``pending ->
rejected | expired``. The store makes each move a guarded transition (an UPDATE that only succeeds
from the expected state), so racing approvals execute once; this module decides whether a
click may attempt the move at all.

An approval binds to the exact plan through ``plan_hash``: an HMAC of action, parameters and plan
text under ``BACKUP_FIX_SIGNING_KEY``, which is never stored in the database. Whoever can write to
the database can change a request, but cannot make its stored hash match again.

A click counts from one of two places: the request's own card (its channel and message), or the
clicker's own App Home tab, whose buttons carry ``home_tag``: an HMAC of the request, its plan hash
and the one user that Home was drawn for. A Home button copied to, or forged for, someone else
does not match their tag.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

DEFAULT_TTL = timedelta(minutes=30)


class Status(StrEnum):
    """Where a request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Refusal(StrEnum):
    """Why a click on Approve or Reject is refused (shown privately to the clicker)."""

    NOT_APPROVER = "not_approver"
    OWN_REQUEST = "own_request"
    EXPIRED = "expired"
    TAMPERED = "tampered"
    ALREADY_DECIDED = "already_decided"
    WRONG_CHANNEL = "wrong_channel"


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A remediation someone asked for, with the exact plan an approver sees."""

    id: str
    action: str
    params: Mapping[str, Any]
    plan: str
    plan_hash: str
    requester: str
    channel: str
    thread_ts: str
    created_at: datetime
    expires_at: datetime
    status: Status = Status.PENDING
    card_ts: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    outcome: Mapping[str, Any] = field(default_factory=dict)

    def expired(self, now: datetime) -> bool:
        """True once the request's time is up (whatever its status)."""
        return now >= self.expires_at


def plan_hash(action: str, params: Mapping[str, Any], plan: str, *, key: bytes) -> str:
    """The keyed fingerprint an approval binds to: action, parameters and the plan text shown."""
    canonical = json.dumps(
        {"action": action, "params": params, "plan": plan},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hmac.new(key, b"plan\n" + canonical.encode(), hashlib.sha256).hexdigest()


def bound(request: ApprovalRequest, *, key: bytes) -> bool:
    """True when the stored action, parameters and plan still give the stored hash."""
    expected = plan_hash(request.action, request.params, request.plan, key=key)
    return hmac.compare_digest(expected, request.plan_hash)


def new_request(
    *,
    action: str,
    params: Mapping[str, Any],
    plan: str,
    requester: str,
    channel: str,
    thread_ts: str,
    now: datetime,
    key: bytes,
    ttl: timedelta = DEFAULT_TTL,
) -> ApprovalRequest:
    """A fresh pending request with an unguessable id, bound to its plan under ``key``."""
    return ApprovalRequest(
        id=secrets.token_hex(8),
        action=action,
        params=dict(params),
        plan=plan,
        plan_hash=plan_hash(action, params, plan, key=key),
        requester=requester,
        channel=channel,
        thread_ts=thread_ts,
        created_at=now,
        expires_at=now + ttl,
    )


@dataclass(frozen=True, slots=True)
class Approvers:
    """Who may approve: Slack user ids and user-group ids (members resolved by the caller)."""

    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, ids: Iterable[str]) -> Approvers:
        """Split configured ids into users (U…/W…) and groups (S…)."""
        users = {i for i in ids if i[:1] in ("U", "W")}
        groups = {i for i in ids if i[:1] == "S"}
        return cls(frozenset(users), frozenset(groups))

    def allows(self, user: str, group_members: Mapping[str, Iterable[str]]) -> bool:
        """True if ``user`` is a configured approver or a member of a configured group."""
        if user in self.users:
            return True
        return any(user in set(group_members.get(g, ())) for g in self.groups)


def home_tag(request: ApprovalRequest, user: str, *, key: bytes) -> str:
    """The keyed tag of ``request``'s buttons on ``user``'s own App Home tab (plan included)."""
    data = f"home\n{request.id}\n{request.plan_hash}\n{user}".encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Click:
    """What a click presents: the button's hash, and the message it came from; or, from the
    clicker's App Home tab, no message and the button's ``home`` tag."""

    presented_hash: str
    channel: str
    message_ts: str
    home: str | None = None


def _on_card(request: ApprovalRequest, click: Click) -> bool:
    """True when the click came from the request's own card (its channel and message)."""
    if click.channel != request.channel or not request.card_ts:
        return False
    return secrets.compare_digest(click.message_ts, request.card_ts)


def _still_open(
    request: ApprovalRequest, click: Click, user: str, now: datetime, key: bytes
) -> Refusal | None:
    """The refusals common to approving and rejecting: a forged or copied card or Home button, a
    request edited in the database, a decided or late request."""
    if not secrets.compare_digest(click.presented_hash, request.plan_hash):
        return Refusal.TAMPERED
    if not bound(request, key=key):
        return Refusal.TAMPERED
    if click.home is not None:
        if not secrets.compare_digest(click.home, home_tag(request, user, key=key)):
            return Refusal.TAMPERED
    elif not _on_card(request, click):
        return Refusal.WRONG_CHANNEL
    if request.status != Status.PENDING:
        return Refusal.EXPIRED if request.status == Status.EXPIRED else Refusal.ALREADY_DECIDED
    if request.expired(now):
        return Refusal.EXPIRED
    return None


def check_approve(
    request: ApprovalRequest,
    *,
    user: str,
    is_approver: bool,
    click: Click,
    now: datetime,
    key: bytes,
) -> Refusal | None:
    """None when ``user`` may approve ``request`` now; otherwise why not."""
    if (refusal := _still_open(request, click, user, now, key)) is not None:
        return refusal
    if user == request.requester:
        return Refusal.OWN_REQUEST
    if not is_approver:
        return Refusal.NOT_APPROVER
    return None


def check_reject(
    request: ApprovalRequest,
    *,
    user: str,
    is_approver: bool,
    click: Click,
    now: datetime,
    key: bytes,
) -> Refusal | None:
    """None when ``user`` may reject: an approver, or the requester withdrawing their own."""
    if (refusal := _still_open(request, click, user, now, key)) is not None:
        return refusal
    if not (is_approver or user == request.requester):
        return Refusal.NOT_APPROVER
    return None
