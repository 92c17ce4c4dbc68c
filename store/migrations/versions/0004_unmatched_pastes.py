"""Pastes nothing answered, for ``backup-fix kb report``.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create unmatched_pastes as first released, without the unknown codes (v4)."""
    op.create_table(
        "unmatched_pastes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("paste_hash", sa.String(64), nullable=False),
        sa.Column("excerpt", sa.Text, nullable=False),
        sa.Column("best_code", sa.String(100), nullable=True),
        sa.Column("best_score", sa.Float, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_unmatched_pastes_paste_hash", "unmatched_pastes", ["paste_hash"])
    op.create_index("ix_unmatched_pastes_at", "unmatched_pastes", ["at"])


def downgrade() -> None:
    """Drop it."""
    op.drop_table("unmatched_pastes")
