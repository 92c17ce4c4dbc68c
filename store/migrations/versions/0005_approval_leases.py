"""A running request's lease: which replica runs it and when it last said so.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add approvals.runner and approvals.heartbeat_at (v5), where missing."""
    have = _columns("approvals")
    if "runner" not in have:
        op.add_column("approvals", sa.Column("runner", sa.String(128)))
    if "heartbeat_at" not in have:
        op.add_column("approvals", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    """Drop them."""
    op.drop_column("approvals", "heartbeat_at")
    op.drop_column("approvals", "runner")


def _columns(table: str) -> set[str]:
    # The old runner's databases may already have the column; offline SQL assumes they do not.
    if op.get_context().as_sql:
        return set()
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
