"""The codes an unmatched paste showed that the knowledge base did not know.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add unmatched_pastes.unknown_codes (v7), where missing."""
    if "unknown_codes" not in _columns("unmatched_pastes"):
        op.add_column("unmatched_pastes", sa.Column("unknown_codes", sa.String(512)))


def downgrade() -> None:
    """Drop it."""
    op.drop_column("unmatched_pastes", "unknown_codes")


def _columns(table: str) -> set[str]:
    if op.get_context().as_sql:
        return set()
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
