"""``backup-fix db upgrade [--sql [--from REV]] | history | current``: the state store's schema for
operators and DBAs, at BACKUP_FIX_DATABASE_URL as ``serve`` reads it (``serve`` upgrades at start
too; these let a DBA review the SQL first, or upgrade before a rollout)."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import SettingsError, load_settings
from store import Store, StoreError, normalise_url
from store.engine import sqlite_path
from store.schema import LEGACY_REVISIONS, current, head, history, legacy_version, offline_sql


def db_command(args: argparse.Namespace, out: TextIO) -> int:
    """Run one ``db`` command; 2 with one line on stderr when the URL or database is wrong."""
    if args.db_command == "history":
        history(out)
        return 0
    if args.db_command == "upgrade" and args.start is not None and not args.sql:
        return _fail("--from: only with --sql")
    try:
        url = normalise_url(load_settings().database_url)
        if args.db_command == "current":
            out.write(_current(url) + "\n")
        elif args.sql:
            offline_sql(url, out, start=args.start)
        else:
            store = Store(url)
            try:
                out.write(f"database at {store.migrate()} (head)\n")
            finally:
                store.close()
    except SettingsError as exc:
        return _fail(str(exc))
    except StoreError as exc:
        return _fail(f"BACKUP_FIX_DATABASE_URL: {exc}")
    return 0


def _current(url: str) -> str:
    """One line: the revision, how it stands against the newest, what ``upgrade`` would do."""
    newest = head()
    path = sqlite_path(url)
    if path is not None and not path.is_file():  # connecting would create the file
        return f"no database yet at {path} (`backup-fix db upgrade` creates it at {newest})"
    engine = _reader(url)
    try:
        with engine.connect() as conn:
            revisions = current(conn)
            old = legacy_version(conn) if not revisions else None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read: {type(exc).__name__}: {exc.args[0]}") from exc
    finally:
        engine.dispose()
    if old:
        adopted = LEGACY_REVISIONS.get(old, "?")
        return f"old schema_version {old} (`backup-fix db upgrade` adopts it as {adopted})"
    if not revisions:
        return f"none: an empty database (`backup-fix db upgrade` brings it to {newest})"
    at = ", ".join(revisions)
    return f"{at} (head)" if revisions == (newest,) else f"{at} (newest is {newest})"


def _reader(url: str) -> Engine:
    # No pragmas: a look leaves a SQLite file as it was; a host that drops packets fails fast.
    if url.startswith("sqlite"):
        return create_engine(url)
    return create_engine(url, connect_args={"connect_timeout": 5})


def _fail(line: str) -> int:
    print(f"backup-fix: {line}", file=sys.stderr)
    return 2
