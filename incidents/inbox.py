"""The alert inbox: alerts stored the moment they arrive, worked off from here.

``put`` runs in the request (one INSERT, duplicates ignored on ``(alert_id, monitor_condition)``
because action groups retry a delivery up to five times); ``claim`` leases a batch to one worker
of one replica (rows whose lease ran out, their worker gone, are claimed again); ``done`` and
``fail`` settle a row. A crash or a restart between arrival and Slack loses nothing. ``prune``
forgets settled rows past the retention (the hourly prune of ``serve``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from incidents.model import JobOutcome
from store.tables import ALERT_ERROR_CHARS
from store.tables import alert_inbox as alert_inbox  # the table, created by revision 0009

MAX_PAYLOAD = 64 * 1024  # bytes of one stored record; the raw extras go first when over
MAX_ERROR = ALERT_ERROR_CHARS  # characters kept of a worker's last error

Status = Literal["new", "processing", "done", "dropped", "failed"]
SETTLED: tuple[Status, ...] = ("done", "dropped", "failed")  # what the prune may forget


@dataclass(frozen=True)
class Claimed:
    """One leased inbox row: settle it with ``done`` or ``fail`` before ``lease_until``."""

    id: int
    outcome: JobOutcome
    attempts: int
    lease_until: datetime


def encode(outcome: JobOutcome) -> str:
    """The record as stored: JSON of its fields, ``raw`` dropped when it would pass the bound."""
    fields = dataclasses.asdict(outcome)
    fields["at"] = outcome.at.astimezone(UTC).isoformat()
    fields["error_codes"] = list(outcome.error_codes)
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > MAX_PAYLOAD:
        fields["raw"] = {}
        fields["error_message"] = outcome.error_message[:2000]
        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return text


def decode(text: str) -> JobOutcome:
    """The record back from ``encode``'s JSON."""
    fields: dict[str, Any] = json.loads(text)
    fields["at"] = datetime.fromisoformat(fields["at"])
    fields["error_codes"] = tuple(fields.get("error_codes") or ())
    names = {f.name for f in dataclasses.fields(JobOutcome)}
    return JobOutcome(**{k: v for k, v in fields.items() if k in names})


def put(engine: Engine, outcome: JobOutcome, *, now: datetime | None = None) -> bool:
    """Store an alert's record; False when this alert and condition are already stored."""
    if not outcome.alert_id:
        raise ValueError("only alerts go into the alert inbox")
    row = {
        "alert_id": outcome.alert_id[:512],
        "monitor_condition": _condition(outcome),
        "received_at": now or datetime.now(UTC),
        "payload": encode(outcome),
        "status": "new",
        "attempts": 0,
    }
    stmt: Insert
    if engine.dialect.name == "postgresql":
        stmt = postgresql.insert(alert_inbox).values(**row).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(alert_inbox).values(**row).on_conflict_do_nothing()
    with engine.begin() as conn:  # RETURNING: psycopg reports -1 rows for DO NOTHING
        return conn.execute(stmt.returning(alert_inbox.c.id)).first() is not None


def _condition(outcome: JobOutcome) -> str:
    given = outcome.raw.get("monitorCondition")
    if isinstance(given, str) and given:
        return given[:16]
    return "Resolved" if outcome.succeeded else "Fired"


def claim(engine: Engine, now: datetime, lease: timedelta, *, limit: int = 20) -> list[Claimed]:
    """Lease up to ``limit`` due rows (new, or processing with a lapsed lease), oldest first."""
    t = alert_inbox.c
    due = (
        select(t.id)
        .where(
            or_(
                and_(t.status == "new", or_(t.lease_until.is_(None), t.lease_until <= now)),
                and_(t.status == "processing", t.lease_until < now),
            )
        )
        .order_by(t.id)
        .limit(limit)
    )
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)  # replicas take different rows
    until = now + lease
    stmt = (
        update(alert_inbox)
        .where(t.id.in_(due.scalar_subquery()))
        .values(status="processing", lease_until=until, attempts=t.attempts + 1)
        .returning(t.id, t.payload, t.attempts)
    )
    with engine.begin() as conn:  # one statement: atomic on SQLite and PostgreSQL alike
        rows = conn.execute(stmt).all()
    return sorted(
        (Claimed(int(r.id), decode(r.payload), int(r.attempts), until) for r in rows),
        key=lambda c: c.id,
    )


def done(engine: Engine, row_id: int, *, status: Status = "done") -> bool:
    """Settle a claimed row as ``done`` (or ``dropped``); False when it was not processing."""
    if status not in ("done", "dropped"):
        raise ValueError(f"done() settles as done or dropped, not {status}")
    t = alert_inbox.c
    stmt = (
        update(alert_inbox)
        .where(t.id == row_id, t.status == "processing")
        .values(status=status, lease_until=None, last_error=None)
    )
    with engine.begin() as conn:
        return bool(conn.execute(stmt).rowcount)


def fail(
    engine: Engine,
    row_id: int,
    error: str,
    *,
    now: datetime,
    retry_in: timedelta | None = None,
    max_attempts: int = 5,
) -> Status:
    """Record a failed attempt: back to ``new`` after ``retry_in``, or ``failed`` for good once
    ``max_attempts`` are spent (or without ``retry_in``); the status it is left in."""
    t = alert_inbox.c
    spent = t.attempts >= (max_attempts if retry_in is not None else 0)
    retry_at = now + retry_in if retry_in is not None else None
    stmt = (  # one statement: no read-then-write race between replicas
        update(alert_inbox)
        .where(t.id == row_id)
        .values(
            status=case((spent, "failed"), else_="new"),
            lease_until=case((spent, None), else_=retry_at),
            last_error=error[:MAX_ERROR],
        )
        .returning(t.status)
    )
    with engine.begin() as conn:
        found = conn.execute(stmt).scalar()
    return "failed" if found in (None, "failed") else "new"


def prune(engine: Engine, *, before: datetime) -> int:
    """Forget settled rows (done, dropped, failed) received before ``before``; a row still new
    or processing stays whatever its age. Returns how many went."""
    t = alert_inbox.c
    stmt = delete(alert_inbox).where(t.status.in_(SETTLED), t.received_at < before)
    with engine.begin() as conn:
        return int(conn.execute(stmt).rowcount)
