"""One vote per user and answer: a second click changes nothing.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Keep the first of votes cast twice, then a unique index on (code, paste, user) (v8)."""
    feedback = sa.table(
        "feedback",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("paste_hash", sa.String),
        sa.column("user_id", sa.String),
    )
    first = sa.select(sa.func.min(feedback.c.id)).group_by(
        feedback.c.code, feedback.c.paste_hash, feedback.c.user_id
    )
    op.execute(sa.delete(feedback).where(feedback.c.id.not_in(first.scalar_subquery())))
    op.create_index("ux_feedback_vote", "feedback", ["code", "paste_hash", "user_id"], unique=True)


def downgrade() -> None:
    """Drop the index (the votes it kept out stay out)."""
    op.drop_index("ux_feedback_vote", table_name="feedback")
