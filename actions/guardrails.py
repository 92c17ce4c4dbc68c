"""What the bot may touch: only the configured vaults and the VMs they protect, diagnostics always,
remediations only once enabled by name. Every refusal is a ``NotAllowed`` with a sentence users
may read."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from actions.base import Context
from actions.errors import AzureError, NotAllowed
from actions.names import is_diagnostic, is_remediation
from actions.ports import BackupApi
from actions.remediations import REMEDIATIONS
from actions.resources import ProtectedVm, VaultRef

logger = logging.getLogger(__name__)


class Guardrails:
    """The configured vaults (``BACKUP_FIX_VAULTS``) and enabled remediations
    (``BACKUP_FIX_ENABLED_ACTIONS``)."""

    def __init__(self, vaults: Sequence[VaultRef], enabled: frozenset[str]) -> None:
        self.vaults = tuple(vaults)
        self.enabled = enabled
        self._ids = frozenset(v.id.casefold() for v in vaults)

    def check_vault(self, vault: VaultRef) -> None:
        """Refuse a vault that is not configured."""
        if vault.id.casefold() not in self._ids:
            raise NotAllowed(f"Vault {vault.name} is not one this bot may use (BACKUP_FIX_VAULTS).")

    def check_item(self, item: ProtectedVm) -> None:
        """Refuse a VM that no configured vault protects."""
        if item.vault.id.casefold() not in self._ids:
            raise NotAllowed(
                f"VM {item.vm.name} is not protected by a vault this bot may use "
                "(BACKUP_FIX_VAULTS)."
            )

    def check_enabled(self, name: str) -> None:
        """Refuse an unknown action or a remediation that is not enabled."""
        if is_diagnostic(name):
            return
        if not is_remediation(name):
            raise NotAllowed(f"There is no action called {name!r}.")
        if name not in self.enabled:
            raise NotAllowed(
                f"The remediation {name} is not enabled here (BACKUP_FIX_ENABLED_ACTIONS)."
            )

    def offered(
        self,
        entry_names: Iterable[str],
        item: ProtectedVm | None = None,
        *,
        api: BackupApi | None = None,
        now: datetime | None = None,
    ) -> list[str]:
        """The entry's actions to show buttons for: diagnostics always, remediations when enabled
        and (given an item and the api) when their plan for it is not blocked."""
        if item is not None and item.vault.id.casefold() not in self._ids:
            return []
        if item is not None and api is None:
            raise TypeError("offered(item=...) needs api= to plan the remediations")
        ctx = None
        if item is not None and api is not None:
            ctx = Context(item=item, api=api, now=now or datetime.now(UTC))
        return [name for name in dict.fromkeys(entry_names) if self._offers(name, ctx)]

    def _offers(self, name: str, ctx: Context | None) -> bool:
        if is_diagnostic(name):
            return True
        if not is_remediation(name) or name not in self.enabled:
            return False
        return ctx is None or self._applies(name, ctx)

    @staticmethod
    def _applies(name: str, ctx: Context) -> bool:
        remediation = REMEDIATIONS[name]
        try:
            plan = remediation.plan(remediation.default_params(ctx), ctx)
        except AzureError:
            # Unreadable state: no button rather than one that fails after approval.
            logger.warning("could not plan %s for %s", name, ctx.item.vm.id, exc_info=True)
            return False
        return plan.blocked is None
