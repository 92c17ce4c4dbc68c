"""The state store: dedupe of Slack retries, answered threads, feedback, approvals and audit.

SQLAlchemy Core over SQLite (default) or PostgreSQL. Claims are a single
``INSERT ... ON CONFLICT DO NOTHING``, so they stay atomic across threads, processes and replicas
sharing one database. Tables are created by ordered migrations recorded in ``schema_version``;
a later issue appends to ``MIGRATIONS`` and ``metadata`` without touching what is here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.sql.dml import Insert

DEFAULT_URL = "sqlite:///backup-fix.db"

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)
processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("first_seen_at", DateTime(timezone=True), nullable=False, index=True),
)
answered = Table(
    "answered",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("thread_ts", String(32), primary_key=True),
    Column("code", String(100), primary_key=True),
    Column("answered_at", DateTime(timezone=True), nullable=False),
)
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(100), nullable=False, index=True),
    Column("paste_hash", String(64), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


def _v1(conn: Connection) -> None:
    for table in (processed_events, answered, feedback):
        table.create(conn, checkfirst=True)


def _v2(conn: Connection) -> None:
    from actions import ledger  # the approval and audit tables live beside their repository

    for table in (ledger.approvals, ledger.audit):
        table.create(conn, checkfirst=True)


thread_vms = Table(
    "thread_vms",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("thread_ts", String(32), primary_key=True),
    Column("vault_id", String(512), nullable=False),
    Column("vm_id", String(512), nullable=False),
    Column("chosen_by", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


def _v3(conn: Connection) -> None:
    thread_vms.create(conn, checkfirst=True)  # the VM a Slack thread is about (issue 4)


unmatched_pastes = Table(
    "unmatched_pastes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("paste_hash", String(64), nullable=False, index=True),
    Column("excerpt", Text, nullable=False),  # redacted, at most ~300 characters; never the paste
    Column("best_code", String(100), nullable=True),
    Column("best_score", Float, nullable=True),
    Column("source", String(16), nullable=False),  # command, mention or channel
    Column("channel", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("unknown_codes", String(512), nullable=True),  # v7: codes the KB lacked, space-separated
)


def _v4(conn: Connection) -> None:
    unmatched_pastes.create(conn, checkfirst=True)  # feeds `backup-fix kb report` (issue 5)


def _v5(conn: Connection) -> None:
    # The runner's lease on a request (issue 5): a replica killed mid-execution is noticed by a
    # live one. A fresh database got these columns from v2's table; add only what is missing.
    from sqlalchemy import inspect

    from actions import ledger

    have = {c["name"] for c in inspect(conn).get_columns("approvals")}
    for column in (ledger.approvals.c.runner, ledger.approvals.c.heartbeat_at):
        if column.name not in have:
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE approvals ADD COLUMN {column.name} {kind}"))


def _v6(conn: Connection) -> None:
    # The requester's language on a request: its card and outcome are written in it.
    from sqlalchemy import inspect

    from actions import ledger

    if "lang" not in {c["name"] for c in inspect(conn).get_columns("approvals")}:
        kind = ledger.approvals.c.lang.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE approvals ADD COLUMN lang {kind}"))


def _v7(conn: Connection) -> None:
    # The codes an unmatched paste showed that the knowledge base did not know (`kb report`).
    from sqlalchemy import inspect

    if "unknown_codes" not in {c["name"] for c in inspect(conn).get_columns("unmatched_pastes")}:
        kind = unmatched_pastes.c.unknown_codes.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE unmatched_pastes ADD COLUMN unknown_codes {kind}"))


# One vote per user and answer (code and paste): a second click changes nothing.
feedback_vote = Index(
    "ux_feedback_vote", feedback.c.code, feedback.c.paste_hash, feedback.c.user_id, unique=True
)


def _v8(conn: Connection) -> None:
    # Votes cast twice before this step: the first one stays, then the rule holds for good.
    first = select(func.min(feedback.c.id)).group_by(
        feedback.c.code, feedback.c.paste_hash, feedback.c.user_id
    )
    conn.execute(delete(feedback).where(feedback.c.id.not_in(first.scalar_subquery())))
    feedback_vote.create(conn, checkfirst=True)


def _v9(conn: Connection) -> None:
    # The alert inbox (issue 10): Azure Monitor alerts kept from arrival until they are handled.
    from incidents import inbox  # its table lives beside its access functions, like the ledger

    inbox.alert_inbox.create(conn, checkfirst=True)


# What is kept only ``BACKUP_FIX_RETENTION_DAYS``: (table, its time column). Approvals and the
# audit trail are not in it: they are the record of what was changed.
RETAINED: tuple[tuple[Table, Column[Any]], ...] = (
    (unmatched_pastes, unmatched_pastes.c.at),
    (feedback, feedback.c.at),
    (answered, answered.c.answered_at),
    (thread_vms, thread_vms.c.at),
)


# Ordered, append-only: (version, migration). Never edit a released step; add the next one.
MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _v1),
    (2, _v2),
    (3, _v3),
    (4, _v4),
    (5, _v5),
    (6, _v6),
    (7, _v7),
    (8, _v8),
    (9, _v9),
]


class StoreError(Exception):
    """The state store cannot be opened or used; the message says which URL part is wrong."""


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL to use: ``postgresql://`` gets the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"unsupported database {parsed.get_backend_name()!r} (sqlite or postgresql)"
        )
    return parsed.render_as_string(hide_password=False)


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Atomic claims and records over one SQLAlchemy engine."""

    def __init__(self, url: str = DEFAULT_URL, *, engine: Engine | None = None) -> None:
        self.engine = engine or _engine(normalise_url(url))
        self._dialect = self.engine.dialect.name
        self._lock = threading.Lock()  # SQLite allows one writer; waiting here beats "locked".

    def migrate(self) -> int:
        """Apply pending migrations in order; returns the schema version now in place."""
        try:
            with self.engine.begin() as conn:
                if self._dialect == "postgresql":
                    # Replicas starting together must not migrate at the same time.
                    conn.execute(text("SELECT pg_advisory_xact_lock(7263541)"))
                schema_version.create(conn, checkfirst=True)
                current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
                for version, step in MIGRATIONS:
                    if version > current:
                        step(conn)
                        conn.execute(
                            schema_version.insert().values(version=version, applied_at=_now())
                        )
                        current = version
                return int(current)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot prepare the database: {type(exc).__name__}: {exc.args[0]}"
            ) from exc

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


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        # A database host that drops packets must not hang a Slack request: fail fast instead.
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=10,
            pool_timeout=10,
            connect_args={"connect_timeout": 5},
        )
    engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # WAL lets readers run beside the writer; NORMAL keeps the ack path free of extra fsyncs.
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()

    return engine


def open_store(url: str = DEFAULT_URL) -> Store:
    """A migrated store at ``url``; raises StoreError with a one-line reason."""
    try:
        store = Store(url)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot open: {exc}") from exc
    store.migrate()
    return store
