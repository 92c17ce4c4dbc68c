"""Which protected VM a paste is about, found only through the configured vaults.

Resource ids (VM, vault, job) and the protected items' names in the paste point at items; a bare
GUID is tried as a job id only when nothing else did. ``pick_list`` feeds the "Pick the VM" menu.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from actions.errors import AzureError, NotAllowed
from actions.ports import BackupApi
from actions.resources import Job, ProtectedVm, VaultRef, VmRef
from knowledge.matcher import Match, Matcher, default_matcher

JOB_LOOKBACK = timedelta(days=7)  # how far back "the latest failed job" is looked for

_ARM = r"/subscriptions/(?P<sub>[^/\s]+)/resourceGroups/(?P<rg>[^/\s]+)/providers/"
_NAME = r"(?P<name>[^/\s\"',;)\]]+)"
_VM_IDS = re.compile(_ARM + r"Microsoft\.Compute/virtualMachines/" + _NAME, re.IGNORECASE)
_VAULT_IDS = re.compile(_ARM + r"Microsoft\.RecoveryServices/vaults/" + _NAME, re.IGNORECASE)
_GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_JOB_IDS = re.compile(r"/backupJobs/(" + _GUID + ")", re.IGNORECASE)
_GUIDS = re.compile(r"\b(" + _GUID + r")\b", re.IGNORECASE)
MAX_JOB_READS = 3  # get_job calls one paste may cause, whatever number of job ids it holds
_MIN_NAME = 3  # shorter names match too many words


def job_ids(text: str) -> list[str]:
    """The backup job ids (``.../backupJobs/<guid>``) a paste names, each once, in order."""
    return list(dict.fromkeys(m[1].lower() for m in _JOB_IDS.finditer(text)))


def skipped_jobs(text: str) -> list[str]:
    """The job ids of a paste that ``Resolver.resolve`` does not read (past ``MAX_JOB_READS``)."""
    return job_ids(text)[MAX_JOB_READS:]


def same_entity(job: Job, item: ProtectedVm) -> bool:
    """True when the job is about the item's VM (jobs name VMs by friendly name)."""
    entity = job.entity.casefold()
    return job.vault == item.vault and entity in (
        item.friendly_name.casefold(),
        item.vm.name.casefold(),
    )


def latest_failed_job(
    api: BackupApi, item: ProtectedVm, *, now: datetime, lookback: timedelta = JOB_LOOKBACK
) -> Job | None:
    """The item's newest failed job within ``lookback``, with its error details; None if none."""
    failed = api.list_jobs(item.vault, since=now - lookback, status="Failed")
    job = next((j for j in failed if same_entity(j, item)), None)
    # Job lists may come without error details and tasks; the single read has them.
    return None if job is None else api.get_job(item.vault, job.name)


def running_job(
    api: BackupApi, item: ProtectedVm, *, now: datetime, lookback: timedelta = JOB_LOOKBACK
) -> Job | None:
    """The item's newest job still in progress within ``lookback``; None if none."""
    running = api.list_jobs(item.vault, since=now - lookback, status="InProgress")
    return next((j for j in running if same_entity(j, item)), None)


def job_matches(job: Job, matcher: Matcher | None = None) -> list[Match]:
    """The knowledge-base entries the job's error text matches, best first."""
    text = f"{job.error_title} {job.error_message}".strip()
    return (matcher or default_matcher()).match(text) if text else []


def job_codes(job: Job, matcher: Matcher | None = None) -> set[str]:
    """The knowledge-base codes (casefolded) the job's error text matches."""
    return {c.casefold() for m in job_matches(job, matcher) for c in (m.code, *m.entry.all_codes)}


def item_id(item: ProtectedVm) -> str:
    """The protected item's ARM resource id in its vault."""
    return (
        f"{item.vault.id}/backupFabrics/Azure/protectionContainers/{item.container}"
        f"/protectedItems/{item.item}"
    )


def describe(item: ProtectedVm) -> str:
    """The item as approvers read it: VM, its resource group and the vault."""
    return f"VM {item.vm.name} (resource group {item.vm.resource_group}, vault {item.vault.name})"


def fresh_item(api: BackupApi, item: ProtectedVm) -> ProtectedVm:
    """The item as its vault lists it now; NotAllowed when the vault no longer protects it."""
    for known in api.list_protected_vms(item.vault):
        if known.item.casefold() == item.item.casefold():
            return known
    raise NotAllowed(f"{item.friendly_name} is no longer protected by vault {item.vault.name}.")


class Inventory(Protocol):
    """Where protected items come from: ``BackupApi`` or ``actions.inventory.GraphInventory``."""

    def list_protected_vms(self, vault: VaultRef) -> list[ProtectedVm]:
        """The vault's protected Azure VMs."""
        ...

    def forget(self) -> None:
        """Read again at the next question."""
        ...


class Resolver:
    """Finds protected items in pastes; ``list_protected_vms`` is cached per vault for ``ttl`` s.
    With ``inventory`` (Resource Graph, when BACKUP_FIX_SCOPES is set) the items come from it
    instead of ``api``; either way only the configured ``vaults`` are read."""

    def __init__(
        self,
        api: BackupApi,
        vaults: Sequence[VaultRef],
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        inventory: Inventory | None = None,
    ) -> None:
        self._api, self._vaults, self._ttl, self._clock = api, tuple(vaults), ttl, clock
        # Where the items come from: the vaults one by one (api), or Resource Graph (inventory).
        self._inventory = inventory
        self._cache: dict[str, tuple[float, list[ProtectedVm]]] = {}
        self._lock = threading.Lock()

    def items(self, vault: VaultRef) -> list[ProtectedVm]:
        """The vault's protected VMs, from the cache while it is fresh."""
        key = vault.id.casefold()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > self._clock():
            return list(hit[1])
        found = (self._inventory or self._api).list_protected_vms(vault)
        with self._lock:
            self._cache[key] = (self._clock() + self._ttl, found)
        return list(found)

    def all_items(self) -> list[ProtectedVm]:
        """Protected VMs of every configured vault."""
        return [item for vault in self._vaults for item in self.items(vault)]

    def forget(self) -> None:
        """Drop the cache (after a change such as resume_protection)."""
        with self._lock:
            self._cache.clear()
        if self._inventory is not None:
            self._inventory.forget()

    def resolve(self, text: str) -> list[ProtectedVm]:
        """The configured vaults' items the paste names, in the order found (empty if none)."""
        found: list[ProtectedVm] = []

        def add(items: Sequence[ProtectedVm]) -> None:
            found.extend(i for i in items if i not in found)

        budget = [MAX_JOB_READS]
        for m in _VM_IDS.finditer(text):
            ref = VmRef(m["sub"], m["rg"], m["name"])
            add([i for i in self.all_items() if i.vm.same(ref)])
        vaults = self._named_vaults(text) or list(self._vaults)
        for job in job_ids(text)[:MAX_JOB_READS]:
            add(self._job_items(vaults, job, budget))
        low = text.casefold()
        for vault in vaults:
            add([i for i in self.items(vault) if _names(i, low)])
        if not found:
            for guid in list(dict.fromkeys(g.lower() for g in _GUIDS.findall(text))):
                if budget[0] <= 0:
                    break
                add(self._job_items(vaults, guid, budget))
        return found

    def pick_list(
        self,
        *,
        matched_code: str | None = None,
        now: datetime | None = None,
        matcher: Matcher | None = None,
    ) -> list[ProtectedVm]:
        """Items for the "Pick the VM" menu, troubled first; with ``matched_code``, only those
        whose latest failed job shows that error (all of them when none does)."""
        items = sorted(self.all_items(), key=lambda i: (_trouble(i), i.friendly_name.casefold()))
        if matched_code is None:
            return items
        since = (now or datetime.now(UTC)) - JOB_LOOKBACK
        wanted = matched_code.casefold()
        fits: list[ProtectedVm] = []
        for vault in self._vaults:
            failed = self._api.list_jobs(vault, since=since, status="Failed")
            for item in (i for i in items if i.vault == vault):
                job = next((j for j in failed if same_entity(j, item)), None)
                if job is not None and wanted in job_codes(self._details(job), matcher):
                    fits.append(item)
        return [i for i in items if i in fits] or items

    def _details(self, job: Job) -> Job:
        if job.error_title or job.error_message:
            return job
        try:
            return self._api.get_job(job.vault, job.name)
        except AzureError:
            return job

    def _named_vaults(self, text: str) -> list[VaultRef]:
        named = {
            VaultRef(m["sub"], m["rg"], m["name"]).id.casefold() for m in _VAULT_IDS.finditer(text)
        }
        return [v for v in self._vaults if v.id.casefold() in named]

    def _job_items(
        self, vaults: Sequence[VaultRef], job_name: str, budget: list[int]
    ) -> list[ProtectedVm]:
        for vault in vaults:
            if budget[0] <= 0:
                return []  # the paste used up its reads: the rest are named as skipped
            budget[0] -= 1
            try:
                job = self._api.get_job(vault, job_name)
            except AzureError:
                continue  # not this vault's job (404), or unreadable: try the next vault
            return [i for i in self.items(vault) if same_entity(job, i)]
        return []


def _names(item: ProtectedVm, low: str) -> bool:
    for name in {item.friendly_name.casefold(), item.vm.name.casefold()}:
        if len(name) >= _MIN_NAME and re.search(
            r"(?<![\w.-])" + re.escape(name) + r"(?![\w-])", low
        ):
            return True
    return False


def _trouble(item: ProtectedVm) -> int:
    """0 failing, 1 needs attention, 2 fine: the menu lists the worst first."""
    if item.protection_state == "ProtectionError" or item.last_backup_status == "Unhealthy":
        return 0
    if item.health_status not in ("Passed", "") or item.protection_state != "Protected":
        return 1
    return 2
