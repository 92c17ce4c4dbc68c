"""Approval requests and the hash-chained audit trail, in the state store.

Exactly once: every status change is ``UPDATE ... WHERE id = :id AND status = :expected``; only
the caller whose UPDATE changed a row may go on, however many clicks, retries or replicas race.

The audit trail is a chain: each record holds the sequence number and hash of the one before, and
its own hash covers its fields and that link. ``prev_seq`` is unique, so two writers that read the
same tail cannot both append after it: the loser retries on the new tail. An edited record fails
its hash; a deleted one breaks the link of the next.

The hashes are HMAC-SHA-256 under ``BACKUP_FIX_SIGNING_KEY`` (not in the database), so whoever can
write to the database cannot rewrite the chain consistently. A chain begun before the key existed
keeps its plain SHA-256 records: the first keyed append writes a ``chain_keyed`` record after them
and every record from there on is keyed. Each append logs the new head (``audit_head``), so
records cut off the end show against a head kept outside the database (``verify(head=...)``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from actions.approvals import ApprovalRequest, Status
from store import Store
from store.tables import approvals as approvals  # the tables are the store's (store/tables.py)
from store.tables import audit as audit

log = logging.getLogger(__name__)

GENESIS = "0" * 64
KEYED = "chain_keyed"  # the record from which on the chain is keyed (plain SHA-256 before it)
_HASHED = (
    "prev_seq",
    "at",
    "actor",
    "event",
    "request_id",
    "action",
    "plan_hash",
    "correlation_id",
    "detail",
)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit trail."""

    seq: int
    at: str
    actor: str
    event: str
    request_id: str | None
    action: str | None
    plan_hash: str | None
    correlation_id: str | None
    detail: Mapping[str, Any]


def record_hash(prev_hash: str, fields: Any, *, key: bytes | None = None) -> str:
    """The hash of one audit record: the previous hash and the record's fields; keyed (HMAC)
    when ``key`` is given, plain SHA-256 (records from before the key) otherwise."""
    body = json.dumps({k: fields.get(k) for k in _HASHED}, sort_keys=True, ensure_ascii=False)
    data = f"{prev_hash}\n{body}".encode()
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, b"audit\n" + data, hashlib.sha256).hexdigest()


class Ledger:
    """Approval requests and audit records over the state store; ``key`` (the signing key)
    binds approvals to plans and keys the audit chain."""

    def __init__(self, store: Store, *, key: bytes | None = None) -> None:
        self.store = store
        self.key = key
        self._keyed = False  # once the chain is seen keyed it stays so

    # Approval requests
    def add(self, request: ApprovalRequest, *, lang: str | None = None) -> None:
        """Store a new pending request (``lang``: the requester's language, for its messages)."""
        row = {**_row(request), "lang": lang}
        with self.store._write() as conn:
            conn.execute(approvals.insert().values(**row))

    def get(self, request_id: str) -> ApprovalRequest | None:
        """The request with that id, or None."""
        with self.store.engine.connect() as conn:
            row = conn.execute(select(approvals).where(approvals.c.id == request_id)).first()
        return _request(row._mapping) if row is not None else None

    def lang(self, request_id: str) -> str | None:
        """The language a request's messages are written in; None when not recorded."""
        query = select(approvals.c.lang).where(approvals.c.id == request_id)
        with self.store.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return str(found) if found else None

    def transition(
        self,
        request_id: str,
        expected: Status,
        to: Status,
        *,
        live_at: datetime | None = None,
        **fields: Any,
    ) -> bool:
        """Move a request from ``expected`` to ``to``; True only for the one caller that did.
        With ``live_at``, only while the request has not expired at that moment (checked in the
        same UPDATE, so a slow caller cannot approve a request that ran out meanwhile)."""
        values: dict[str, Any] = {"status": to.value}
        for key, value in fields.items():
            values[key] = json.dumps(value, default=str) if key == "outcome" else value
        where = [approvals.c.id == request_id, approvals.c.status == expected.value]
        if live_at is not None:
            where.append(approvals.c.expires_at > live_at.astimezone(UTC))
        stmt = update(approvals).where(*where).values(**values)
        with self.store._write() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    def note(self, request_id: str, runner: str, outcome: Mapping[str, Any]) -> bool:
        """Record what a running request's call is about to do or returned, while ``runner``
        holds it; recovery settles on this, never on a guess."""
        stmt = (
            update(approvals)
            .where(
                approvals.c.id == request_id,
                approvals.c.status == Status.RUNNING.value,
                approvals.c.runner == runner,
            )
            .values(outcome=json.dumps(dict(outcome), default=str))
        )
        with self.store._write() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    def in_thread(self, channel: str, thread_ts: str) -> list[ApprovalRequest]:
        """The requests made in a thread, oldest first."""
        query = (
            select(approvals)
            .where(approvals.c.channel == channel, approvals.c.thread_ts == thread_ts)
            .order_by(approvals.c.created_at)
        )
        with self.store.engine.connect() as conn:
            return [_request(r._mapping) for r in conn.execute(query)]

    def set_card(self, request_id: str, card_ts: str) -> None:
        """Remember the approval card's message ts, so later updates can edit it."""
        stmt = update(approvals).where(approvals.c.id == request_id).values(card_ts=card_ts)
        with self.store._write() as conn:
            conn.execute(stmt)

    def with_status(self, *statuses: Status) -> list[ApprovalRequest]:
        """Requests in any of ``statuses``, oldest first (restart recovery)."""
        query = (
            select(approvals)
            .where(approvals.c.status.in_([s.value for s in statuses]))
            .order_by(approvals.c.created_at)
        )
        with self.store.engine.connect() as conn:
            return [_request(r._mapping) for r in conn.execute(query)]

    # Leases of running requests: a killed replica is noticed, its requests are reconciled.
    def start_running(self, request_id: str, runner: str, now: datetime) -> bool:
        """approved -> running under ``runner``'s lease; True only for the one caller that did."""
        return self.transition(
            request_id, Status.APPROVED, Status.RUNNING, runner=runner, heartbeat_at=now
        )

    def heartbeat(self, request_id: str, runner: str, now: datetime) -> bool:
        """Renew ``runner``'s lease; False when the request is no longer running under it."""
        stmt = (
            update(approvals)
            .where(
                approvals.c.id == request_id,
                approvals.c.status == Status.RUNNING.value,
                approvals.c.runner == runner,
            )
            .values(heartbeat_at=now)
        )
        with self.store._write() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    def stale(self, status: Status, before: datetime) -> list[tuple[ApprovalRequest, str | None]]:
        """Requests in ``status`` whose lease (or, without one, decision) is older than
        ``before``, with the runner that held them; oldest first."""
        query = (
            select(approvals)
            .where(approvals.c.status == status.value, _last_sign(before))
            .order_by(approvals.c.created_at)
        )
        with self.store.engine.connect() as conn:
            return [(_request(r._mapping), r._mapping["runner"]) for r in conn.execute(query)]

    def take_over(
        self, request_id: str, before: datetime, to: Status, *, outcome: Mapping[str, Any]
    ) -> bool:
        """running -> ``to`` only while the lease is still older than ``before`` (a runner that
        came back wins over the reconciler); True for the one caller that did."""
        stmt = (
            update(approvals)
            .where(
                approvals.c.id == request_id,
                approvals.c.status == Status.RUNNING.value,
                _last_sign(before),
            )
            .values(status=to.value, outcome=json.dumps(dict(outcome), default=str))
        )
        with self.store._write() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    # Audit trail
    def audit(
        self,
        event: str,
        *,
        actor: str,
        request: ApprovalRequest | None = None,
        correlation_id: str | None = None,
        **detail: Any,
    ) -> int:
        """Append one record to the chain; returns its sequence number."""
        fields: dict[str, Any] = {
            "actor": actor,
            "event": event,
            "request_id": request.id if request else None,
            "action": request.action if request else None,
            "plan_hash": request.plan_hash if request else None,
            "correlation_id": correlation_id,
            "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str),
        }
        for _ in range(50):
            try:
                with self.store._write() as conn:
                    tail = conn.execute(
                        select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)
                    ).first()
                    prev_seq, prev_hash = (tail[0], tail[1]) if tail else (0, GENESIS)
                    if self.key is not None and not self._chain_keyed(conn):
                        marker = _marker(prev_seq)
                        prev_seq, prev_hash = self._insert(conn, marker, prev_seq, prev_hash)
                    seq, head = self._insert(conn, fields, prev_seq, prev_hash)
                if self.key is not None:
                    self._keyed = True
                # The head, outside the database: `audit --verify --head` checks against it.
                log.info("audit appended", extra={"audit_seq": seq, "audit_head": head})
                return seq
            except IntegrityError:
                continue  # another writer took this tail; append after the new one
        raise RuntimeError("could not append to the audit trail: too much contention")

    def _chain_keyed(self, conn: Any) -> bool:
        if not self._keyed:
            query = select(audit.c.seq).where(audit.c.event == KEYED).limit(1)
            self._keyed = conn.execute(query).first() is not None
        return self._keyed

    def _insert(
        self, conn: Any, fields: dict[str, Any], prev_seq: int, prev_hash: str
    ) -> tuple[int, str]:
        row = {**fields, "prev_seq": prev_seq}
        row["at"] = datetime.now(UTC).isoformat(timespec="microseconds")
        digest = record_hash(prev_hash, row, key=self.key)
        result = conn.execute(audit.insert().values(**row, prev_hash=prev_hash, hash=digest))
        key = result.inserted_primary_key
        assert key is not None  # an INSERT always has one
        return int(key[0]), digest

    def head(self) -> tuple[int, str] | None:
        """(sequence number, hash) of the chain's last record; None when it is empty."""
        query = select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)
        with self.store.engine.connect() as conn:
            row = conn.execute(query).first()
        return (int(row[0]), str(row[1])) if row is not None else None

    def records(self, *, since: datetime | None = None) -> Iterator[AuditRecord]:
        """Audit records in order, optionally only those at or after ``since``."""
        query = select(audit).order_by(audit.c.seq)
        if since is not None:
            query = query.where(audit.c.at >= since.astimezone(UTC).isoformat())
        with self.store.engine.connect() as conn:
            for row in conn.execute(query):
                m = row._mapping
                yield AuditRecord(
                    m["seq"],
                    m["at"],
                    m["actor"],
                    m["event"],
                    m["request_id"],
                    m["action"],
                    m["plan_hash"],
                    m["correlation_id"],
                    json.loads(m["detail"]),
                )

    def verify(self, *, head: str | None = None) -> list[str]:
        """Problems in the chain (edited, deleted or reordered records; with ``head``, records
        cut off or added after the head recorded elsewhere); empty when intact."""
        problems: list[str] = []
        prev_seq, prev_hash = 0, GENESIS
        keyed, hashes = False, {}
        with self.store.engine.connect() as conn:
            for row in conn.execute(select(audit).order_by(audit.c.seq)):
                m = row._mapping
                if m["prev_seq"] != prev_seq or m["prev_hash"] != prev_hash:
                    problems.append(
                        f"record {m['seq']}: does not follow record {prev_seq} "
                        "(a record before it was deleted or edited)"
                    )
                keyed = keyed or m["event"] == KEYED
                if keyed and self.key is None:
                    problems.append(
                        f"record {m['seq']}: keyed; set BACKUP_FIX_SIGNING_KEY to verify it"
                    )
                elif record_hash(m["prev_hash"], m, key=self.key if keyed else None) != m["hash"]:
                    problems.append(f"record {m['seq']}: its content does not match its hash")
                prev_seq, prev_hash = m["seq"], m["hash"]
                hashes[prev_hash] = prev_seq
        if head is not None and head.strip().casefold() != prev_hash.casefold():
            at = hashes.get(head.strip().casefold())
            problems.append(
                f"head: the chain goes on after record {at}, where the given head is"
                if at is not None
                else f"head: the chain ends at record {prev_seq}, not at the given head "
                "(records were cut off the end or rewritten)"
            )
        return problems


def _marker(before: int) -> dict[str, Any]:
    detail = json.dumps({"unkeyed_before": before + 1}, sort_keys=True)
    return {
        "actor": "backup-fix",
        "event": KEYED,
        "request_id": None,
        "action": None,
        "plan_hash": None,
        "correlation_id": None,
        "detail": detail,
    }


def _last_sign(before: datetime) -> Any:
    """The lease is older than ``before``; a request without one counts from its decision."""
    last = func.coalesce(approvals.c.heartbeat_at, approvals.c.decided_at, approvals.c.created_at)
    return last < before


def _row(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "action": request.action,
        "params": json.dumps(dict(request.params), sort_keys=True, default=str),
        "plan": request.plan,
        "plan_hash": request.plan_hash,
        "requester": request.requester,
        "channel": request.channel,
        "thread_ts": request.thread_ts,
        "card_ts": request.card_ts,
        "status": request.status.value,
        "created_at": request.created_at,
        "expires_at": request.expires_at,
        "decided_by": request.decided_by,
        "decided_at": request.decided_at,
        "outcome": json.dumps(dict(request.outcome), default=str),
    }


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _request(m: Any) -> ApprovalRequest:
    created = _utc(m["created_at"]) or datetime.now(UTC)  # NOT NULL columns: never None
    expires = _utc(m["expires_at"]) or created
    return ApprovalRequest(
        id=m["id"],
        action=m["action"],
        params=json.loads(m["params"]),
        plan=m["plan"],
        plan_hash=m["plan_hash"],
        requester=m["requester"],
        channel=m["channel"],
        thread_ts=m["thread_ts"],
        created_at=created,
        expires_at=expires,
        status=Status(m["status"]),
        card_ts=m["card_ts"],
        decided_by=m["decided_by"],
        decided_at=_utc(m["decided_at"]),
        outcome=json.loads(m["outcome"] or "{}"),
    )
