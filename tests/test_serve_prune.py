"""`serve` forgets Slack event ids past Slack's retry window, so the dedupe table stays small."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.serve import _prune
from store import open_store, processed_events


def test_prune_forgets_only_old_event_ids(db_url: str) -> None:
    store = open_store(db_url)
    assert store.claim_event("EvOld")
    assert store.claim_event("EvNew")
    with store.engine.begin() as conn:
        conn.execute(
            update(processed_events)
            .where(processed_events.c.event_id == "EvOld")
            .values(first_seen_at=datetime.now(UTC) - timedelta(days=2))
        )
    _prune(store)
    assert store.claim_event("EvOld") is True  # forgotten: a day-old retry is not a retry
    assert store.claim_event("EvNew") is False  # still remembered
    store.close()


def test_a_stop_signal_is_not_swallowed_by_waitress_while_it_serves_a_connection() -> None:
    """SIGTERM's handler raises _StopError wherever the main thread is; inside a connection's
    read, waitress hands ordinary exceptions to the connection and serves on."""
    from waitress import wasyncore

    from bot.serve import _StopError

    class Channel:
        def handle_read_event(self) -> None:
            raise _StopError

        def handle_error(self) -> None:
            raise AssertionError("swallowed by the connection's error handler")

    with pytest.raises(_StopError):
        wasyncore.read(Channel())
