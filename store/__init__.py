"""The state store, below every room that keeps state: Slack dedupe, feedback, approvals and
audit, the alert inbox. It imports nothing of ``bot``, ``actions``, ``knowledge`` or ``incidents``.

``engine`` (URLs and engines), ``tables`` (every table, one ``metadata``), ``state`` (the ``Store``
class and ``open_store``), ``schema`` (Alembic upgrades under a lock) and ``migrations/`` (the
revisions).
"""

from store.engine import DEFAULT_URL, StoreError, make_engine, normalise_url
from store.state import Store, open_store
from store.tables import (
    RETAINED,
    alert_inbox,
    answered,
    approvals,
    audit,
    feedback,
    feedback_vote,
    metadata,
    processed_events,
    thread_vms,
    unmatched_pastes,
)

__all__ = [
    "DEFAULT_URL",
    "RETAINED",
    "Store",
    "StoreError",
    "alert_inbox",
    "answered",
    "approvals",
    "audit",
    "feedback",
    "feedback_vote",
    "make_engine",
    "metadata",
    "normalise_url",
    "open_store",
    "processed_events",
    "thread_vms",
    "unmatched_pastes",
]
