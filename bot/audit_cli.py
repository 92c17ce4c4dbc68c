"""``backup-fix audit [--since] [--verify [--head H]]``: print the audit trail, or check its keyed
hash chain (and, with ``--head``, that it ends at a head logged elsewhere)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import URL, create_engine, make_url, select
from sqlalchemy.exc import SQLAlchemyError

from actions.ledger import AuditRecord, Ledger, audit
from bot.blocks.actions import audit_line
from bot.settings import SettingsError, load_settings
from store import Store, StoreError, normalise_url, open_store
from store.schema import has_schema

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EMPTY_URL = "sqlite://"  # what a read sees before anything was recorded: nothing, in memory


def audit_page(store: Store, *, limit: int, before: int | None = None) -> list[AuditRecord]:
    """Up to ``limit`` records just before sequence number ``before`` (the newest without it),
    oldest first: one keyset query, never the whole table."""
    query = select(audit).order_by(audit.c.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(audit.c.seq < before)
    with store.engine.connect() as conn:
        rows = [row._mapping for row in conn.execute(query)]
    return [_record(m) for m in reversed(rows)]


def _record(m: Any) -> AuditRecord:
    return AuditRecord(
        seq=m["seq"],
        at=m["at"],
        actor=m["actor"],
        event=m["event"],
        request_id=m["request_id"],
        action=m["action"],
        plan_hash=m["plan_hash"],
        correlation_id=m["correlation_id"],
        detail=json.loads(m["detail"]),
    )


def parse_since(raw: str, *, now: datetime | None = None) -> datetime:
    """An ISO-8601 instant (UTC if no zone) or an age like ``24h``; ValueError if neither."""
    age = _AGE.match(raw)
    if age is not None:
        delta = timedelta(**{_UNITS[age[2].lower()]: int(age[1])})
        return (now or datetime.now(UTC)) - delta
    moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def audit_command(args: argparse.Namespace, out: TextIO) -> int:
    """Print records (one line each); with --verify, 1 and the broken records when tampered."""
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError:
        return _fail(f"--since: {args.since!r} is neither ISO-8601 nor an age like 24h")
    head = getattr(args, "head", None)
    if head is not None and not args.verify:
        return _fail("--head: only with --verify")
    if head is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", head.strip()):
        return _fail(f"--head: {head!r} is not a 64-digit hex hash (audit_head in the log)")
    try:
        key = load_settings().key()
    except SettingsError as exc:
        return _fail(str(exc))
    store = configured_store()
    if isinstance(store, str):
        return _fail(store)
    try:
        ledger = Ledger(store, key=key)
        if args.verify:
            problems = ledger.verify(head=head)
            for problem in problems:
                out.write(f"BROKEN {problem}\n")
            if problems:
                return 1
            out.write("audit trail intact\n")
            return 0
        shown = False
        for record in ledger.records(since=since):
            out.write(audit_line(record) + "\n")
            shown = True
        if not shown:
            out.write(_nothing(ledger, since))
        return 0
    finally:
        store.close()


def configured_store() -> Store | str:
    """The store BACKUP_FIX_DATABASE_URL names, to read; or the one line saying what is wrong."""
    try:
        settings = load_settings()
        return reading_store(settings.database_url)
    except SettingsError as exc:
        return str(exc)
    except StoreError as exc:
        return f"BACKUP_FIX_DATABASE_URL: {exc}"


def reading_store(url: str) -> Store:
    """Our store at ``url`` (brought up to date, as ``serve`` would); an empty one in memory when
    there is none yet: a read never creates a database file or tables."""
    return open_store(url) if _holds_our_tables(url) else open_store(EMPTY_URL)


def _holds_our_tables(url: str) -> bool:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None and not path.is_file():
            return False  # connecting would create it
        engine = create_engine(parsed)  # no pragmas: a database that is not ours stays as it is
    else:
        engine = create_engine(parsed, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            return has_schema(conn)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read: {type(exc).__name__}: {exc.args[0]}") from exc
    finally:
        engine.dispose()


def _sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names; None for an in-memory database."""
    database = url.database or ""
    if url.query.get("uri") in ("true", "1"):
        if url.query.get("mode") == "memory":
            return None
        database = database.removeprefix("file:")
    return None if database in ("", ":memory:") else Path(database)


def _nothing(ledger: Ledger, since: datetime | None) -> str:
    if since is not None and next(iter(ledger.records()), None) is not None:
        return f"No audit records since {since:%Y-%m-%d %H:%M} UTC.\n"
    return "No audit records yet.\n"


def _fail(line: str) -> int:
    print(f"backup-fix: {line}", file=sys.stderr)
    return 2
