"""The state store: dedupe of Slack retries, answered threads, feedback and retention.

SQLAlchemy Core over SQLite (default) or PostgreSQL. Claims are a single
``INSERT ... ON CONFLICT DO NOTHING``, so they stay atomic across threads, processes and replicas
sharing one database. The schema is Alembic's (``store/migrations/``), brought to head by
``migrate()``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError
from sqlalchemy.sql.dml import Insert

from store.engine import DEFAULT_URL, StoreError, make_engine, normalise_url
from store.tables import RETAINED, answered, feedback, processed_events


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Atomic claims and records over one SQLAlchemy engine."""

    def __init__(self, url: str = DEFAULT_URL, *, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(normalise_url(url))
        self._dialect = self.engine.dialect.name
        self._lock = threading.Lock()  # SQLite allows one writer; waiting here beats "locked".

    def migrate(self) -> str:
        """Bring the schema to the newest revision; returns that revision's id."""
        from store import schema  # Alembic loads only for this: `match` and friends start fast

        return schema.upgrade(self.engine)

    def claim_event(self, event_id: str) -> bool:
        """Record a Slack event id; True only for the first call with that id, anywhere."""
        return self._claim(processed_events, {"event_id": event_id, "first_seen_at": _now()})

    def claim_answer(self, channel: str, thread_ts: str, code: str) -> bool:
        """Record that ``code`` is answered in a thread; True only for the first claim."""
        row = {"channel": channel, "thread_ts": thread_ts, "code": code, "answered_at": _now()}
        return self._claim(answered, row)

    def record_feedback(
        self, *, code: str, paste_hash: str, user: str, helpful: bool, at: datetime | None = None
    ) -> bool:
        """Store one "Helped" / "Didn't help" vote (the paste's hash, never the paste); False
        when this user already voted on this answer (their first vote stands)."""
        row = {
            "code": code,
            "paste_hash": paste_hash,
            "user_id": user,
            "helpful": helpful,
            "at": at or _now(),
        }
        return self._claim(feedback, row)

    def feedback_counts(self, code: str) -> tuple[int, int]:
        """(helped, didn't help) votes for ``code``."""
        query = select(feedback.c.helpful, func.count()).where(feedback.c.code == code)
        with self.engine.connect() as conn:
            counts = {bool(k): int(n) for k, n in conn.execute(query.group_by(feedback.c.helpful))}
        return int(counts.get(True, 0)), int(counts.get(False, 0))

    def prune_events(self, *, older_than: timedelta = timedelta(days=1)) -> int:
        """Forget event ids older than Slack's retry window; returns how many went."""
        cutoff = _now() - older_than
        with self._write() as conn:
            result = conn.execute(
                delete(processed_events).where(processed_events.c.first_seen_at < cutoff)
            )
        return int(result.rowcount)

    def prune_retained(self, *, older_than: timedelta, now: datetime | None = None) -> int:
        """Forget unmatched pastes, votes, answered threads and thread VMs older than
        ``older_than`` (the audit trail stays); returns how many rows went."""
        cutoff = (now or _now()) - older_than
        gone = 0
        for table, at in RETAINED:
            with self._write() as conn:  # one table at a time: short write transactions
                gone += int(conn.execute(delete(table).where(at < cutoff)).rowcount)
        return gone

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def _claim(self, table: Table, row: dict[str, Any]) -> bool:
        stmt: Insert
        if self._dialect == "postgresql":
            stmt = postgresql.insert(table).values(**row).on_conflict_do_nothing()
        else:
            stmt = sqlite.insert(table).values(**row).on_conflict_do_nothing()
        # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT DO NOTHING.
        first_pk = next(iter(table.primary_key.columns))
        with self._write() as conn:
            return conn.execute(stmt.returning(first_pk)).first() is not None

    def _write(self) -> _Tx:
        return _Tx(self)


class _Tx:
    """A write transaction; serialised within the process on SQLite only."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._serial = store._dialect == "sqlite"
        self._cm: Any = None

    def __enter__(self) -> Connection:
        if self._serial:
            self._store._lock.acquire()
        self._cm = self._store.engine.begin()
        try:
            return self._cm.__enter__()  # type: ignore[no-any-return]
        except BaseException:
            if self._serial:
                self._store._lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            self._cm.__exit__(*exc)
        finally:
            if self._serial:
                self._store._lock.release()


def open_store(url: str = DEFAULT_URL) -> Store:
    """A migrated store at ``url``; raises StoreError with a one-line reason."""
    try:
        store = Store(url)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot open: {exc}") from exc
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
