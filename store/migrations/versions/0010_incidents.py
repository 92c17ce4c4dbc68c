"""Incidents: one per protected item and error code, the jobs that made them (the dedupe across
alerts and polls), the Slack outbox and each channel's pace, and the daily digest's runs.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create incidents, incident_jobs, slack_outbox, slack_pace and digest_runs."""
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(800), nullable=False),
        sa.Column("item_key", sa.String(768), nullable=False),
        sa.Column("vault_id", sa.String(512), nullable=False),
        sa.Column("item", sa.String(256), nullable=False),
        sa.Column("item_id", sa.String(1024), nullable=False),
        sa.Column("workload", sa.String(64), nullable=False),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("portal_link", sa.String(2048), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("episode", sa.Integer, nullable=False),
        sa.Column("first_failure", tz, nullable=False),
        sa.Column("last_failure", tz, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("noted", sa.Integer, nullable=False),
        sa.Column("last_job", sa.String(600), nullable=False),
        sa.Column("resolved_at", tz, nullable=True),
        sa.Column("resolved_by", sa.String(600), nullable=True),
        sa.UniqueConstraint("key", name="ux_incidents_key"),
    )
    op.create_index("ix_incidents_item", "incidents", ["item_key", "status"])
    op.create_index("ix_incidents_last", "incidents", ["last_failure"])
    op.create_table(
        "incident_jobs",
        sa.Column("job_id", sa.String(600), primary_key=True),
        sa.Column("incident_id", sa.Integer, nullable=True),
        sa.Column("item_key", sa.String(768), nullable=False),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.Column("at", tz, nullable=False),
    )
    op.create_index("ix_incident_jobs_at", "incident_jobs", ["at"])
    op.create_table(
        "slack_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("incident_id", sa.Integer, nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("pending_key", sa.String(64), nullable=True),
        sa.Column("payload", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("not_before", tz, nullable=False),
        sa.Column("lease_until", tz, nullable=True),
        sa.Column("sent_at", tz, nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.UniqueConstraint("pending_key", name="ux_slack_outbox_pending"),
    )
    op.create_index("ix_slack_outbox_due", "slack_outbox", ["status", "not_before"])
    op.create_table(
        "slack_pace",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("next_at", tz, nullable=False),
    )
    op.create_table(
        "digest_runs",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("claimed_at", tz, nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    for table in ("digest_runs", "slack_pace", "slack_outbox", "incident_jobs", "incidents"):
        op.drop_table(table)
