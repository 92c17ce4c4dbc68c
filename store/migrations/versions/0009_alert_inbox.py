"""The alert inbox: Azure Monitor alerts kept from arrival until they are handled.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create alert_inbox, one row per alert and monitor condition (v9)."""
    op.create_table(
        "alert_inbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(512), nullable=False),
        sa.Column("monitor_condition", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.UniqueConstraint("alert_id", "monitor_condition", name="ux_alert_inbox_alert"),
    )
    op.create_index("ix_alert_inbox_due", "alert_inbox", ["status", "lease_until"])


def downgrade() -> None:
    """Drop it."""
    op.drop_table("alert_inbox")
