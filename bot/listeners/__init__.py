"""Slack listeners, one module per feature, each with ``register(app, deps)``; and their deps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.locale import LocaleCache
from bot.logging import new_ref
from bot.metrics import Metrics
from bot.settings import Settings
from bot.user_channels import UserChannels
from knowledge.loader import KnowledgeBase
from store import Store

if TYPE_CHECKING:
    from actions.guardrails import Guardrails
    from actions.ledger import Ledger
    from actions.resolve import Resolver
    from bot.approvers import ApproverDirectory
    from bot.background import Background


def utc_now() -> datetime:
    """The clock the approval flow reads (tests pass their own)."""
    return datetime.now(UTC)


@dataclass
class Deps:
    """Everything a listener needs, built once by ``create_app``."""

    settings: Settings
    kb: KnowledgeBase
    store: Store
    metrics: Metrics
    locale: LocaleCache
    channels: UserChannels = field(default_factory=UserChannels)  # the Home tab's incidents
    azure: Any = None  # a BackupApi when vaults are configured, else None
    # Diagnostic and remediation names whose buttons have a handler (issue 4 fills this).
    actions: frozenset[str] = field(default_factory=frozenset)
    # Issue 4: set by create_app; the Azure parts only when vaults are configured.
    ledger: Ledger | None = None
    approvers: ApproverDirectory | None = None
    guardrails: Guardrails | None = None
    resolver: Resolver | None = None
    background: Background | None = None
    approval_ttl: timedelta = timedelta(minutes=30)
    clock: Callable[[], datetime] = utc_now

    def actions_in(self, channel: str) -> frozenset[str]:
        """The action buttons offered in ``channel``: none outside BACKUP_FIX_ACTION_CHANNELS."""
        return self.actions if self.settings.acts_in(channel) else frozenset()

    @property
    def azure_ready(self) -> bool:
        """True when diagnostics and remediations can run (vaults configured, API built)."""
        return self.azure is not None and self.resolver is not None and self.guardrails is not None


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
