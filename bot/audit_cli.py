"""``backup-fix audit [--since] [--verify [--head H]]``: print the audit trail, or check its keyed
hash chain (and, with ``--head``, that it ends at a head logged elsewhere)."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import TextIO

from actions.ledger import Ledger
from actions.store import Store, StoreError, open_store
from bot.blocks.actions import audit_line
from bot.settings import SettingsError, load_settings

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


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
        for record in ledger.records(since=since):
            out.write(audit_line(record) + "\n")
        return 0
    finally:
        store.close()


def configured_store() -> Store | str:
    """The store BACKUP_FIX_DATABASE_URL names, migrated; or the one line saying what is wrong."""
    try:
        settings = load_settings()
        return open_store(settings.database_url)
    except SettingsError as exc:
        return str(exc)
    except StoreError as exc:
        return f"BACKUP_FIX_DATABASE_URL: {exc}"


def _fail(line: str) -> int:
    print(f"backup-fix: {line}", file=sys.stderr)
    return 2
