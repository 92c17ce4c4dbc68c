"""Every table of the state store, on one ``metadata``: what the Alembic revisions must build.

A table's columns change only together with a new revision in ``store/migrations/versions/``;
``tests/test_migrations.py`` fails while the two disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Slack: event ids already handled (retries), threads already answered, votes.
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
# One vote per user and answer (code and paste): a second click changes nothing.
feedback_vote = Index(
    "ux_feedback_vote", feedback.c.code, feedback.c.paste_hash, feedback.c.user_id, unique=True
)
# The VM a Slack thread is about.
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
# Pastes nothing answered, for `backup-fix kb report`.
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
    Column("unknown_codes", String(512), nullable=True),  # codes the KB lacked, space-separated
)

# Approval requests and the hash-chained audit trail (``actions/ledger.py`` reads and writes them).
approvals = Table(
    "approvals",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("action", String(64), nullable=False),
    Column("params", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("plan_hash", String(64), nullable=False),
    Column("requester", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("thread_ts", String(32), nullable=False),
    Column("card_ts", String(32)),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(32)),
    Column("decided_at", DateTime(timezone=True)),
    Column("outcome", Text, nullable=False, default="{}"),
    # A running request's lease: which replica runs it, when it last said so.
    Column("runner", String(128)),
    Column("heartbeat_at", DateTime(timezone=True)),
    # The requester's language: the card and outcome are written in it. Kept out of the params,
    # which the plan hash covers.
    Column("lang", String(8)),
)
audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("prev_seq", Integer, nullable=False, unique=True),
    Column("at", String(40), nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("event", String(32), nullable=False),
    Column("request_id", String(32)),
    Column("action", String(64)),
    Column("plan_hash", String(64)),
    Column("correlation_id", String(128)),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Azure Monitor alerts kept from arrival until handled (``incidents/inbox.py`` works them off).
ALERT_ERROR_CHARS = 500  # characters kept of a worker's last error
alert_inbox = Table(
    "alert_inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(512), nullable=False),
    Column("monitor_condition", String(16), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("payload", Text, nullable=False),  # the parsed JobOutcome as JSON, bounded
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=True),  # also "not before" when new
    Column("last_error", String(ALERT_ERROR_CHARS), nullable=True),
    UniqueConstraint("alert_id", "monitor_condition", name="ux_alert_inbox_alert"),
)
Index("ix_alert_inbox_due", alert_inbox.c.status, alert_inbox.c.lease_until)

# What is kept only ``BACKUP_FIX_RETENTION_DAYS``: (table, its time column). Approvals and the
# audit trail are not in it: they are the record of what was changed.
RETAINED: tuple[tuple[Table, Column[Any]], ...] = (
    (unmatched_pastes, unmatched_pastes.c.at),
    (feedback, feedback.c.at),
    (answered, answered.c.answered_at),
    (thread_vms, thread_vms.c.at),
)
