"""An in-memory ``actions.ports.BackupApi`` for unit tests: plain state, recorded calls, and
``AzureError`` subclasses raised on demand (``fail("cancel_job", AzureConflict(...))``).

Changes act on the state the way Azure would (a deleted lock is gone from ``list_locks``), so a
test can check both what was called and what a diagnostic sees afterwards.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from actions.errors import AzureError, AzureNotFound
from actions.resources import (
    Extension,
    Job,
    Lock,
    Outcome,
    ProtectedVm,
    RestorePointCollection,
    VaultRef,
    VmRef,
    VmStatus,
)

VAULT = VaultRef("sub-1", "rg-backup", "vault-1")
VM = VmRef("sub-1", "rg-app", "web-01")


def protected_vm(vm: VmRef = VM, vault: VaultRef = VAULT, **changes: Any) -> ProtectedVm:
    """A healthy protected item for ``vm`` in ``vault``; keywords override fields."""
    rg, name = vm.resource_group.lower(), vm.name.lower()
    item = ProtectedVm(
        vault=vault,
        vm=vm,
        container=f"IaasVMContainer;iaasvmcontainerv2;{rg};{name}",
        item=f"VM;iaasvmcontainerv2;{rg};{name}",
        friendly_name=vm.name,
        protection_state="Protected",
        health_status="Passed",
        last_backup_status="Healthy",
        last_backup_time=datetime(2025, 1, 1, tzinfo=UTC),
        policy_id=f"{vault.id}/backupPolicies/DefaultPolicy",
    )
    return dataclasses.replace(item, **changes)


class FakeBackupApi:
    """Azure as a few dicts; every call lands in ``calls`` as ``(method, args)``."""

    def __init__(self) -> None:
        self.items: dict[str, list[ProtectedVm]] = defaultdict(list)  # by vault id
        self.jobs: dict[str, list[Job]] = defaultdict(list)  # by vault id, any order
        self.statuses: dict[str, VmStatus] = {}  # by VM id (casefolded)
        self.groups: dict[str, list[str]] = defaultdict(list)  # by subscription
        self.collections: dict[tuple[str, str], list[RestorePointCollection]] = defaultdict(list)
        self.locks: dict[tuple[str, str], list[Lock]] = defaultdict(list)
        self.job_statuses: dict[str, list[str]] = {}  # job name -> statuses get_job_status returns
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._failures: dict[str, list[AzureError]] = defaultdict(list)
        self._lock = threading.Lock()
        self._next_job = 0

    # Test set-up
    def add_item(self, item: ProtectedVm) -> ProtectedVm:
        """Protect a VM; returns the item."""
        self.items[item.vault.id].append(item)
        return item

    def add_job(self, job: Job) -> Job:
        """Record a job in its vault."""
        self.jobs[job.vault.id].append(job)
        return job

    def set_status(self, status: VmStatus) -> None:
        """The instance view ``get_vm_status`` returns for the VM."""
        self.statuses[status.vm.id.casefold()] = status

    def add_collection(self, collection: RestorePointCollection) -> RestorePointCollection:
        """A restore-point collection in its resource group."""
        key = (collection.subscription_id, collection.resource_group.lower())
        self.collections[key].append(collection)
        return collection

    def add_lock(self, lock: Lock) -> Lock:
        """A management lock on its resource group."""
        self.locks[(lock.subscription_id, lock.resource_group.lower())].append(lock)
        return lock

    def fail(self, method: str, error: AzureError, *, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` raise ``error``."""
        self._failures[method].extend([error] * times)

    def names(self) -> list[str]:
        """The methods called, in order."""
        return [name for name, _ in self.calls]

    def _call(self, method: str, *args: Any) -> None:
        with self._lock:
            self.calls.append((method, args))
            pending = self._failures.get(method)
            error = pending.pop(0) if pending else None
        if error is not None:
            raise error

    # Reads
    def list_protected_vms(self, vault: VaultRef) -> list[ProtectedVm]:
        self._call("list_protected_vms", vault)
        return list(self.items[vault.id])

    def list_jobs(
        self, vault: VaultRef, *, since: datetime, status: str | None = None
    ) -> list[Job]:
        self._call("list_jobs", vault, since, status)
        found = [
            j
            for j in self.jobs[vault.id]
            if (status is None or j.status == status) and (j.start_time or since) >= since
        ]
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(found, key=lambda j: j.start_time or oldest, reverse=True)

    def get_job(self, vault: VaultRef, job_name: str) -> Job:
        self._call("get_job", vault, job_name)
        for job in self.jobs[vault.id]:
            if job.name == job_name:
                return job
        raise AzureNotFound(f"job {job_name} not found", status=404, code="NotFound")

    def get_job_status(self, vault: VaultRef, job_name: str) -> str:
        self._call("get_job_status", vault, job_name)
        with self._lock:
            queue = self.job_statuses.get(job_name)
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return "InProgress"

    def get_vm_status(self, vm: VmRef) -> VmStatus:
        self._call("get_vm_status", vm)
        try:
            return self.statuses[vm.id.casefold()]
        except KeyError:
            raise AzureNotFound(f"VM {vm.name} not found", status=404) from None

    def list_restore_point_collections(
        self, subscription_id: str, resource_group: str
    ) -> list[RestorePointCollection]:
        self._call("list_restore_point_collections", subscription_id, resource_group)
        return list(self.collections[(subscription_id, resource_group.lower())])

    def list_resource_groups(self, subscription_id: str, *, prefix: str) -> list[str]:
        self._call("list_resource_groups", subscription_id, prefix)
        return [g for g in self.groups[subscription_id] if g.lower().startswith(prefix.lower())]

    def list_locks(self, subscription_id: str, resource_group: str) -> list[Lock]:
        self._call("list_locks", subscription_id, resource_group)
        return list(self.locks[(subscription_id, resource_group.lower())])

    # Changes
    def trigger_backup(self, item: ProtectedVm, *, retain_until: datetime) -> Outcome:
        self._call("trigger_backup", item, retain_until)
        self._next_job += 1
        name = f"00000000-0000-0000-0000-{self._next_job:012d}"
        self.add_job(
            Job(
                item.vault,
                name,
                item.friendly_name,
                "Backup",
                "InProgress",
                datetime.now(UTC),
                None,
            )
        )
        return Outcome(True, "Backup started.", job_id=name, correlation_id="corr-trigger")

    def cancel_job(self, vault: VaultRef, job_name: str) -> Outcome:
        self._call("cancel_job", vault, job_name)
        self._replace_job(vault, job_name, status="Cancelling")
        return Outcome(True, "Cancellation requested.", job_id=job_name)

    def delete_extension(self, vm: VmRef, extension: Extension) -> Outcome:
        self._call("delete_extension", vm, extension)
        status = self.statuses[vm.id.casefold()]
        kept = tuple(e for e in status.extensions if e.name != extension.name)
        self.statuses[vm.id.casefold()] = dataclasses.replace(status, extensions=kept)
        return Outcome(True, f"Extension {extension.name} removed.")

    def delete_lock(self, lock: Lock) -> Outcome:
        self._call("delete_lock", lock)
        key = (lock.subscription_id, lock.resource_group.lower())
        self.locks[key] = [k for k in self.locks[key] if k.name != lock.name]
        return Outcome(True, f"Lock {lock.name} removed.")

    def delete_restore_point_collection(self, collection: RestorePointCollection) -> Outcome:
        self._call("delete_restore_point_collection", collection)
        key = (collection.subscription_id, collection.resource_group.lower())
        self.collections[key] = [c for c in self.collections[key] if c.name != collection.name]
        return Outcome(True, f"Collection {collection.name} deleted.")

    def resume_protection(self, item: ProtectedVm, *, policy_id: str) -> Outcome:
        self._call("resume_protection", item, policy_id)
        items = self.items[item.vault.id]
        for i, known in enumerate(items):
            if known.item == item.item:
                items[i] = dataclasses.replace(
                    known, protection_state="Protected", policy_id=policy_id
                )
        return Outcome(True, "Protection resumed.")

    def _replace_job(self, vault: VaultRef, job_name: str, **changes: Any) -> None:
        jobs = self.jobs[vault.id]
        for i, job in enumerate(jobs):
            if job.name == job_name:
                jobs[i] = dataclasses.replace(job, **changes)
