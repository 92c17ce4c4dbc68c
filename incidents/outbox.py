"""The Slack outbox: messages to send, kept in the store until Slack took them.

A row is enqueued in the transaction that decided it (``incidents.state``). A root message and a
resolution exist once per incident episode (their ``pending_key`` stays); repeats coalesce: while
one waits, later repeats of the same incident add nothing (its key is cleared when claimed, so a
repeat after that queues the next one). ``claim`` takes a channel's pace token (``slack_pace``:
about one message per second per channel, shared by replicas) and then leases one due row; a
worker that dies leaves a lease that runs out, and the row is claimed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.tables import OUTBOX_ERROR_CHARS, incidents, slack_outbox, slack_pace

Kind = Literal["root", "repeat", "resolve", "digest"]
ORDER = {"root": 0, "resolve": 1, "repeat": 2, "digest": 3}  # new incidents first
CANDIDATES = 20


@dataclass(frozen=True, slots=True)
class Item:
    """One leased outbox row."""

    id: int
    kind: str
    incident_id: int | None
    channel: str
    payload: str | None
    attempts: int
    created_at: datetime


def insert_ignore(conn: Connection, table: Any, row: dict[str, Any], returning: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING; the ``returning`` column's value, None on conflict."""
    if conn.dialect.name == "postgresql":
        stmt: Any = postgresql.insert(table).values(**row).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).values(**row).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg reports -1 rows for DO NOTHING.
    found = conn.execute(stmt.returning(returning)).first()
    return None if found is None else found[0]


def _key(kind: str, incident_id: int | None, episode: int, payload_key: str) -> str:
    if kind == "digest":
        return f"digest:{payload_key}"[:64]
    if kind == "repeat":
        return f"repeat:{incident_id}"
    return f"{kind}:{incident_id}:{episode}"


def enqueue(
    conn: Connection,
    kind: Kind,
    channel: str,
    *,
    now: datetime,
    incident_id: int | None = None,
    episode: int = 0,
    payload: str | None = None,
    payload_key: str = "",
) -> bool:
    """Queue one message in the caller's transaction; False when an equal one is queued."""
    row = {
        "kind": kind,
        "incident_id": incident_id,
        "channel": channel,
        "pending_key": _key(kind, incident_id, episode, payload_key),
        "payload": payload,
        "status": "new",
        "attempts": 0,
        "created_at": now,
        "not_before": now,
        "lease_until": None,
        "sent_at": None,
        "ts": None,
        "last_error": None,
    }
    return insert_ignore(conn, slack_outbox, row, slack_outbox.c.id) is not None


def take_token(conn: Connection, channel: str, now: datetime, interval: float) -> bool:
    """Take ``channel``'s next sending slot when it is due; False while it is not."""
    insert_ignore(
        conn,
        slack_pace,
        {"channel": channel, "next_at": now - timedelta(seconds=1)},
        slack_pace.c.channel,
    )
    stmt = (
        update(slack_pace)
        .where(slack_pace.c.channel == channel, slack_pace.c.next_at <= now)
        .values(next_at=now + timedelta(seconds=interval))
    )
    return bool(conn.execute(stmt).rowcount == 1)


def hold_channel(engine: Engine, channel: str, until: datetime) -> None:
    """Slack said wait (429 Retry-After): nobody sends to ``channel`` before ``until``."""
    p = slack_pace.c
    with engine.begin() as conn:
        conn.execute(
            update(slack_pace).where(p.channel == channel, p.next_at < until).values(next_at=until)
        )


def claim(engine: Engine, now: datetime, *, lease: timedelta, interval: float = 1.0) -> Item | None:
    """Lease the most urgent due row whose channel may take a message now; None when none."""
    o, i = slack_outbox.c, incidents.c
    due = or_(
        and_(o.status == "new", o.not_before <= now),
        and_(o.status == "sending", o.lease_until < now),
    )
    ready = or_(o.kind.in_(("root", "digest")), i.message_ts.is_not(None))
    order = case(*((o.kind == k, n) for k, n in ORDER.items()), else_=9)
    query = (
        select(o.id, o.channel)
        .select_from(slack_outbox.outerjoin(incidents, i.id == o.incident_id))
        .where(due, ready)
        .order_by(order, o.id)
        .limit(CANDIDATES)
    )
    with engine.begin() as conn:
        rows = conn.execute(query).all()
    tried: set[str] = set()
    for row in rows:
        if row.channel in tried:
            continue
        tried.add(row.channel)
        with engine.begin() as conn:
            if not take_token(conn, row.channel, now, interval):
                continue
            stmt = (
                update(slack_outbox)
                .where(o.id == row.id, due)
                .values(
                    status="sending",
                    lease_until=now + lease,
                    attempts=o.attempts + 1,
                    pending_key=case((o.kind == "repeat", None), else_=o.pending_key),
                )
                .returning(
                    o.id, o.kind, o.incident_id, o.channel, o.payload, o.attempts, o.created_at
                )
            )
            got = conn.execute(stmt).first()
            if got is None:  # another replica took it: give the slot back
                conn.execute(
                    update(slack_pace)
                    .where(slack_pace.c.channel == row.channel)
                    .values(next_at=now)
                )
                continue
            return Item(
                int(got.id),
                str(got.kind),
                got.incident_id,
                str(got.channel),
                got.payload,
                int(got.attempts),
                got.created_at,
            )
    return None


def sent(engine: Engine, item_id: int, *, ts: str, now: datetime) -> None:
    """Slack took the row's message."""
    _settle(engine, item_id, status="sent", ts=ts[:32], sent_at=now, lease_until=None)


def retry(engine: Engine, item_id: int, *, at: datetime, error: str) -> None:
    """Back to the queue, not before ``at``."""
    _settle(
        engine,
        item_id,
        status="new",
        not_before=at,
        lease_until=None,
        last_error=error[:OUTBOX_ERROR_CHARS],
    )


def failed(engine: Engine, item_id: int, *, error: str) -> None:
    """Given up (Slack refuses it for good, e.g. channel_not_found); kept for the record."""
    _settle(
        engine, item_id, status="failed", lease_until=None, last_error=error[:OUTBOX_ERROR_CHARS]
    )


def _settle(engine: Engine, item_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(slack_outbox).where(slack_outbox.c.id == item_id).values(**values))


def waiting(engine: Engine) -> int:
    """Rows not sent yet (new or sending)."""
    query = select(func.count()).where(slack_outbox.c.status.in_(("new", "sending")))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
