"""The protected-VM inventory from Azure Resource Graph: one paged query for the whole estate
instead of one listing per vault through Resource Manager.

``GraphInventory`` answers ``list_protected_vms(vault)`` like ``BackupApi`` does, from a snapshot
refreshed at most every ``ttl`` seconds, so ``actions.resolve.Resolver`` can read either. Only the
configured vaults (BACKUP_FIX_VAULTS) are ever answered: items of other vaults in scope are dropped
at refresh, so nothing outside the allow-list is offered for an action.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from actions.graph import PROTECTED_ITEMS, Scopes
from actions.resources import ProtectedVm, VaultRef, VmRef

VM_ITEM_TYPE = "microsoft.compute/virtualmachines"
_ITEM_ID = re.compile(
    r"^(?P<vault>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.RecoveryServices/vaults/[^/]+)/backupFabrics/[^/]+"
    r"/protectionContainers/(?P<container>[^/]+)/protectedItems/(?P<item>[^/]+)$",
    re.IGNORECASE,
)


def iso_time(raw: Any) -> datetime | None:
    """An ISO 8601 time from a row (Resource Graph writes 7 fractional digits and Z); None if not
    one."""
    if isinstance(raw, datetime):
        return raw
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


class RowSource(Protocol):
    """Runs a Resource Graph query over scopes (``actions.azure_graph.ResourceGraph``)."""

    def rows(self, query: str, scopes: Scopes) -> Iterator[Mapping[str, Any]]:
        """Every row of the query, all pages."""
        ...


def vm_from_row(row: Mapping[str, Any], vault: VaultRef) -> ProtectedVm | None:
    """A PROTECTED_ITEMS row as our value; None for anything but an Azure VM item."""
    if str(row.get("protectedItemType") or "").lower() != VM_ITEM_TYPE:
        return None
    found = _ITEM_ID.match(str(row.get("id") or ""))
    vm_id = str(row.get("virtualMachineId") or row.get("sourceResourceId") or "")
    if found is None:
        return None
    try:
        vm = VmRef.parse(vm_id)
    except ValueError:
        return None
    return ProtectedVm(
        vault=vault,
        vm=vm,
        container=found["container"],
        item=found["item"],
        friendly_name=str(row.get("friendlyName") or ""),
        protection_state=str(row.get("protectionState") or ""),
        health_status=str(row.get("healthStatus") or ""),
        last_backup_status=str(row.get("lastBackupStatus") or ""),
        last_backup_time=iso_time(row.get("lastBackupTime")),
        policy_id=str(row.get("policyId") or ""),
    )


class GraphInventory:
    """Protected VMs of the configured vaults, from Resource Graph (one query per refresh)."""

    def __init__(
        self,
        graph: RowSource,
        scopes: Scopes,
        vaults: Sequence[VaultRef],
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        fallback: Callable[[VaultRef], list[ProtectedVm]] | None = None,
    ) -> None:
        self._graph, self._scopes, self._ttl, self._clock = graph, scopes, ttl, clock
        self._vaults = {v.id.casefold(): v for v in vaults}
        self._fallback = fallback  # per-vault listing for a vault the scopes cannot cover
        self._lock = threading.Lock()  # guards the snapshot
        self._refreshing = threading.Lock()  # one refresh at a time; readers wait for it
        self._snapshot: dict[str, list[ProtectedVm]] = {}
        self._fresh_until: float | None = None
        self.refreshes = 0
        self.outside = 0  # VM items of vaults outside the allow-list, dropped at the last refresh

    def refresh(self) -> int:
        """Read the whole inventory now; returns how many allow-listed VM items it holds."""
        snapshot: dict[str, list[ProtectedVm]] = {key: [] for key in self._vaults}
        outside = 0
        for row in self._graph.rows(PROTECTED_ITEMS, self._scopes):
            found = _ITEM_ID.match(str(row.get("id") or ""))
            vault = self._vaults.get(found["vault"].casefold()) if found else None
            if vault is None:
                outside += found is not None
                continue
            item = vm_from_row(row, vault)
            if item is not None:
                snapshot[vault.id.casefold()].append(item)
        with self._lock:
            self._snapshot, self.outside = snapshot, outside
            self._fresh_until = self._clock() + self._ttl
            self.refreshes += 1
        return sum(len(items) for items in snapshot.values())

    def list_protected_vms(self, vault: VaultRef) -> list[ProtectedVm]:
        """The vault's protected VMs from the snapshot; [] for a vault outside the allow-list."""
        key = vault.id.casefold()
        if key not in self._vaults:
            return []
        if self._fallback is not None and not self._covers(vault):
            return self._fallback(vault)
        if not self._fresh():
            with self._refreshing:  # one query however many threads ask at once
                if not self._fresh():
                    self.refresh()
        with self._lock:
            return list(self._snapshot.get(key, []))

    def forget(self) -> None:
        """Read again at the next question (after a change such as resume_protection)."""
        with self._lock:
            self._fresh_until = None

    def _fresh(self) -> bool:
        with self._lock:
            return self._fresh_until is not None and self._fresh_until > self._clock()

    def _covers(self, vault: VaultRef) -> bool:
        if self._scopes.management_groups:
            return True  # a group may hold any subscription: trust the scopes
        return vault.subscription_id.lower() in self._scopes.subscriptions
