"""The unmatched pastes and feedback votes in the store, for ``backup-fix kb report``.

No Slack here: ``kb report`` stays an offline command.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from knowledge.report import UnmatchedRow
from store import Store, feedback, unmatched_pastes

UNKNOWN_CODES_CHARS = 512  # the column's size


def record_unmatched(
    store: Store,
    *,
    excerpt: str,
    digest: str,
    best: tuple[str, float] | None,
    source: str,
    channel: str,
    at: datetime | None = None,
    unknown_codes: Sequence[str] = (),
) -> None:
    """Insert one row; ``excerpt`` and ``unknown_codes`` must already be redacted."""
    codes = list(dict.fromkeys(c for c in unknown_codes if c and c.split() == [c]))
    while len(" ".join(codes)) > UNKNOWN_CODES_CHARS:
        codes.pop()
    row = {
        "paste_hash": digest,
        "excerpt": excerpt,
        "best_code": best[0] if best else None,
        "best_score": best[1] if best else None,
        "source": source,
        "channel": channel[:32],
        "at": at or datetime.now(UTC),
        "unknown_codes": " ".join(codes) or None,
    }
    with store.engine.begin() as conn:
        conn.execute(unmatched_pastes.insert().values(**row))


def unmatched_since(store: Store, since: datetime) -> Iterator[UnmatchedRow]:
    """The stored unmatched pastes at or after ``since``, oldest first."""
    t = unmatched_pastes.c
    query = select(
        t.excerpt, t.paste_hash, t.best_code, t.best_score, t.source, t.channel, t.at,
        t.unknown_codes,
    )  # fmt: skip
    query = query.where(t.at >= since).order_by(t.at, t.id)
    with store.engine.connect() as conn:
        for r in conn.execute(query):
            at = r.at if r.at.tzinfo is not None else r.at.replace(tzinfo=UTC)  # SQLite drops it
            codes = tuple((r.unknown_codes or "").split())
            yield UnmatchedRow(
                r.excerpt, r.paste_hash, r.best_code, r.best_score, r.source, r.channel, at, codes
            )


def votes_since(store: Store, since: datetime) -> list[tuple[str, bool]]:
    """(code, helpful) of every feedback vote at or after ``since``."""
    query = select(feedback.c.code, feedback.c.helpful).where(feedback.c.at >= since)
    with store.engine.connect() as conn:
        return [(str(code), bool(helpful)) for code, helpful in conn.execute(query)]
