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

# Incidents (``incidents/state.py``): one per protected item and error code; its Slack message.
OUTBOX_ERROR_CHARS = 500
incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(800), nullable=False),  # item key | code
    Column("item_key", String(768), nullable=False),  # vault id / item name, lower case
    Column("vault_id", String(512), nullable=False),
    Column("item", String(256), nullable=False),
    Column("item_id", String(1024), nullable=False),
    Column("workload", String(64), nullable=False),
    Column("code", String(100), nullable=False),  # the knowledge base's code, else Azure's, or ''
    Column("message", Text, nullable=False),  # Azure's error text, bounded
    Column("portal_link", String(2048), nullable=False),
    Column("channel", String(32), nullable=True),  # None: proactive posting is off
    Column("message_ts", String(32), nullable=True),  # the root message, once posted
    Column("status", String(16), nullable=False),  # open, resolved
    Column("episode", Integer, nullable=False),  # +1 each time a resolved incident fails again
    Column("first_failure", DateTime(timezone=True), nullable=False),
    Column("last_failure", DateTime(timezone=True), nullable=False),
    Column("count", Integer, nullable=False),
    Column("noted", Integer, nullable=False),  # failures already told in Slack
    Column("last_job", String(600), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolved_by", String(600), nullable=True),  # the job that succeeded
    UniqueConstraint("key", name="ux_incidents_key"),
)
Index("ix_incidents_item", incidents.c.item_key, incidents.c.status)
Index("ix_incidents_last", incidents.c.last_failure)
# Every job an incident source reported, once: the dedupe across alerts and polls.
incident_jobs = Table(
    "incident_jobs",
    metadata,
    Column("job_id", String(600), primary_key=True),
    Column("incident_id", Integer, nullable=True),  # None for a succeeded job
    Column("item_key", String(768), nullable=False),
    Column("code", String(100), nullable=False),
    Column("source", String(8), nullable=False),  # alert, poll
    Column("succeeded", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)
# Slack messages to send, durable: posted at Slack's pace, claimed before, recorded after.
slack_outbox = Table(
    "slack_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # root, repeat, resolve, digest
    Column("incident_id", Integer, nullable=True),
    Column("channel", String(32), nullable=False),
    Column("pending_key", String(64), nullable=True),  # set while new: coalesces repeats
    Column("payload", Text, nullable=True),  # a digest's message
    Column("status", String(16), nullable=False),  # new, sending, sent, failed
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("not_before", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("ts", String(32), nullable=True),
    Column("last_error", String(OUTBOX_ERROR_CHARS), nullable=True),
    UniqueConstraint("pending_key", name="ux_slack_outbox_pending"),
)
Index("ix_slack_outbox_due", slack_outbox.c.status, slack_outbox.c.not_before)
# When each channel may take the next message (Slack: about one per second per channel).
slack_pace = Table(
    "slack_pace",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("next_at", DateTime(timezone=True), nullable=False),
)
# The daily digest, once per day across replicas.
digest_runs = Table(
    "digest_runs",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD (UTC)
    Column("channel", String(32), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)

# What is kept only ``BACKUP_FIX_RETENTION_DAYS``: (table, its time column). Approvals and the
# audit trail are not in it: they are the record of what was changed.
RETAINED: tuple[tuple[Table, Column[Any]], ...] = (
    (unmatched_pastes, unmatched_pastes.c.at),
    (feedback, feedback.c.at),
    (answered, answered.c.answered_at),
    (thread_vms, thread_vms.c.at),
)
