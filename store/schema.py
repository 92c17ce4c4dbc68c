"""The schema's version: Alembic revisions (``store/migrations/``), applied under one lock.

``upgrade`` brings a database to the newest revision. On PostgreSQL it first takes a session
advisory lock on ``LOCK_KEY`` on its own connection, so replicas starting together migrate once:
the others wait, then find nothing left to do. On SQLite ``BEGIN IMMEDIATE`` takes the write lock
before the version is read, which serialises processes sharing the file the same way.

A database made by the hand-written runner that came before (``schema_version``, versions 1..9)
is adopted: each old step is the revision of the same number, so the database is stamped at its
version, upgraded from there, and the old table is dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from store.engine import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
LOCK_KEY = 7263541  # the old runner's key too: an old and a new replica never migrate at once
VERSION_TABLE = "alembic_version"
LEGACY_TABLE = "schema_version"
# The old runner's version N is the revision "000N" (its step N, carried over unchanged).
LEGACY_REVISIONS = {n: f"{n:04d}" for n in range(1, 10)}
# Alembic's ``op`` and ``context`` are process-wide: one of its commands runs at a time per process.
_ALEMBIC = threading.Lock()


def config(*, out: TextIO | None = None, **attributes: Any) -> Config:
    """Alembic's configuration without an ini file; ``attributes`` reach ``env.py``."""
    cfg = Config(output_buffer=out, stdout=out) if out is not None else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes.update(attributes)
    return cfg


def head() -> str:
    """The newest revision's id."""
    found = ScriptDirectory.from_config(config()).get_current_head()
    if found is None:  # pragma: no cover - the package ships its revisions
        raise StoreError(f"no migrations in {MIGRATIONS_DIR}")
    return found


def upgrade(engine: Engine, *, revision: str = "head") -> str:
    """Bring the database to ``revision`` under the migration lock; the revision it is at."""
    try:
        with _ALEMBIC, _migrating(engine) as conn:
            cfg = config(connection=conn)
            _adopt_legacy(conn, cfg)
            command.upgrade(cfg, revision)
            now = current(conn)
    except (SQLAlchemyError, CommandError) as exc:
        reason = exc.args[0] if exc.args else exc
        raise StoreError(f"cannot prepare the database: {type(exc).__name__}: {reason}") from exc
    return ", ".join(now)


def current(conn: Connection) -> tuple[str, ...]:
    """The revision(s) the database is at; empty before the first upgrade."""
    return MigrationContext.configure(conn).get_current_heads()


def legacy_version(conn: Connection) -> int | None:
    """The old runner's version of a database it made and nothing adopted yet; else None."""
    if not inspect(conn).has_table(LEGACY_TABLE):
        return None
    found = conn.execute(text(f"SELECT max(version) FROM {LEGACY_TABLE}")).scalar()  # noqa: S608
    return int(found or 0)


def has_schema(conn: Connection) -> bool:
    """Whether the database holds our tables (either runner's version table)."""
    found = inspect(conn)
    return found.has_table(VERSION_TABLE) or found.has_table(LEGACY_TABLE)


def offline_sql(url: str, out: TextIO, *, start: str | None = None) -> None:
    """Write the SQL that upgrades a database at ``start`` (none: an empty one) to the newest
    revision, for ``url``'s dialect, without connecting."""
    cfg = config(out=out, url=url)
    try:
        with _ALEMBIC:
            command.upgrade(cfg, f"{start}:head" if start else "head", sql=True)
    except CommandError as exc:
        raise StoreError(str(exc)) from exc


def history(out: TextIO) -> None:
    """Write the revisions, newest first."""
    with _ALEMBIC:
        command.history(config(out=out))


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection holding the migration lock, in a transaction committed when the block ends."""
    postgres = engine.dialect.name == "postgresql"
    conn = engine.connect()
    try:
        if postgres:  # a session lock: held until unlocked below, whatever the transactions do
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
        else:  # SQLite: take the write lock now, before anyone reads the version
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if postgres:
                _unlock(conn)
    finally:
        conn.close()


def _unlock(conn: Connection) -> None:
    try:
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        conn.commit()
    except SQLAlchemyError:
        conn.invalidate()  # a closed session lets go of its locks as well


def _adopt_legacy(conn: Connection, cfg: Config) -> None:
    version = legacy_version(conn)
    if version is None:
        return
    if not inspect(conn).has_table(VERSION_TABLE) and version:
        if version not in LEGACY_REVISIONS:
            newest = max(LEGACY_REVISIONS)
            raise StoreError(f"{LEGACY_TABLE} is at {version}; this release knows 1..{newest}")
        command.stamp(cfg, LEGACY_REVISIONS[version])
    conn.execute(text(f"DROP TABLE {LEGACY_TABLE}"))
