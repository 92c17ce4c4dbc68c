"""The requester's language on a request: its card and outcome are written in it.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add approvals.lang (v6), where missing."""
    if "lang" not in _columns("approvals"):
        op.add_column("approvals", sa.Column("lang", sa.String(8)))


def downgrade() -> None:
    """Drop it."""
    op.drop_column("approvals", "lang")


def _columns(table: str) -> set[str]:
    if op.get_context().as_sql:
        return set()
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
