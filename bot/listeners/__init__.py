"""Slack listeners, one module per feature, each with ``register(app, deps)``; and their deps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from actions.store import Store
from bot.locale import LocaleCache
from bot.logging import new_ref
from bot.metrics import Metrics
from bot.settings import Settings
from knowledge.loader import KnowledgeBase


@dataclass
class Deps:
    """Everything a listener needs, built once by ``create_app``."""

    settings: Settings
    kb: KnowledgeBase
    store: Store
    metrics: Metrics
    locale: LocaleCache
    azure: Any = None
    # Diagnostic and remediation names whose buttons have a handler (issue 4 fills this).
    actions: frozenset[str] = field(default_factory=frozenset)


@contextmanager
def guard(
    deps: Deps, listener: str, logger: Any, notify: Callable[[str], object] | None = None
) -> Iterator[None]:
    """Log a failure with a reference id, tell the user that id, and keep the thread alive."""
    try:
        yield
    except Exception:
        ref = new_ref()
        deps.metrics.errors.labels(listener).inc()
        logger.exception("listener failed", extra={"ref": ref, "listener": listener})
        if notify is not None:
            try:
                notify(ref)
            except Exception:  # telling the user is best effort
                logger.warning("could not report the failure", extra={"ref": ref})
