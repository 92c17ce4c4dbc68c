"""Azure resources the bot reads and acts on, as plain values (no Azure SDK types).

The Azure SDK layer (``actions/azure*.py``) turns SDK models into these; everything else in
``actions/`` and ``bot/`` works with these only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_VM_ID = re.compile(
    r"/subscriptions/(?P<sub>[^/\s]+)/resourceGroups/(?P<rg>[^/\s]+)"
    r"/providers/Microsoft\.Compute/virtualMachines/(?P<name>[^/\s\"',;]+)",
    re.IGNORECASE,
)
_VAULT_ID = re.compile(
    r"/subscriptions/(?P<sub>[^/\s]+)/resourceGroups/(?P<rg>[^/\s]+)"
    r"/providers/Microsoft\.RecoveryServices/vaults/(?P<name>[^/\s\"',;]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class VmRef:
    """An Azure VM by subscription, resource group and name."""

    subscription_id: str
    resource_group: str
    name: str

    @property
    def id(self) -> str:
        """The VM's ARM resource id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Compute/virtualMachines/{self.name}"
        )

    @classmethod
    def parse(cls, resource_id: str) -> VmRef:
        """Parse a VM resource id; ValueError if it is not one."""
        m = _VM_ID.search(resource_id)
        if m is None:
            raise ValueError(f"not a virtual machine resource id: {resource_id!r}")
        return cls(m["sub"], m["rg"], m["name"])

    def same(self, other: VmRef) -> bool:
        """ARM names compare case-insensitively."""
        return self.id.casefold() == other.id.casefold()


@dataclass(frozen=True, slots=True)
class VaultRef:
    """A Recovery Services vault."""

    subscription_id: str
    resource_group: str
    name: str

    @property
    def id(self) -> str:
        """The vault's ARM resource id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.RecoveryServices/vaults/{self.name}"
        )

    @classmethod
    def parse(cls, resource_id: str) -> VaultRef:
        """Parse a vault resource id; ValueError if it is not one."""
        m = _VAULT_ID.fullmatch(resource_id.strip().rstrip("/"))
        if m is None:
            raise ValueError(f"not a Recovery Services vault resource id: {resource_id!r}")
        return cls(m["sub"], m["rg"], m["name"])


@dataclass(frozen=True, slots=True)
class ProtectedVm:
    """A VM protected by one of the configured vaults (a backup protected item)."""

    vault: VaultRef
    vm: VmRef
    container: str  # e.g. "IaasVMContainer;iaasvmcontainerv2;rg;vm"
    item: str  # e.g. "VM;iaasvmcontainerv2;rg;vm"
    friendly_name: str
    protection_state: str  # Protected, ProtectionStopped, ProtectionError, BackupsSuspended, ...
    health_status: str  # Passed, ActionRequired, ActionSuggested, Invalid
    last_backup_status: str  # Healthy, Unhealthy, IRPending, ""
    last_backup_time: datetime | None
    policy_id: str


@dataclass(frozen=True, slots=True)
class JobTask:
    """One task of a backup job (e.g. "Take Snapshot")."""

    name: str
    status: str


@dataclass(frozen=True, slots=True)
class Job:
    """A backup job of a vault."""

    vault: VaultRef
    name: str  # the job id (GUID)
    entity: str  # the VM's friendly name
    operation: str
    status: str  # InProgress, Completed, Failed, CompletedWithWarnings, Cancelled, Cancelling
    start_time: datetime | None
    end_time: datetime | None
    error_code: int | None = None
    error_title: str = ""
    error_message: str = ""
    recommendations: tuple[str, ...] = ()
    tasks: tuple[JobTask, ...] = ()
    activity_id: str = ""

    @property
    def id(self) -> str:
        """The job's ARM resource id."""
        return f"{self.vault.id}/backupJobs/{self.name}"


@dataclass(frozen=True, slots=True)
class Extension:
    """A VM extension's state (VMSnapshot / VMSnapshotLinux are Azure Backup's)."""

    name: str
    type: str
    version: str
    state: str  # provisioning state or the instance view's status code
    message: str = ""

    @property
    def is_backup_snapshot(self) -> bool:
        """True for Azure Backup's snapshot extension."""
        return self.type.lower().startswith("vmsnapshot") or self.name.lower().startswith(
            "vmsnapshot"
        )

    @property
    def failed(self) -> bool:
        """True when its state says it failed."""
        return "failed" in self.state.lower()


@dataclass(frozen=True, slots=True)
class VmStatus:
    """Power, provisioning and agent state of a VM, with its extensions."""

    vm: VmRef
    power_state: str
    provisioning_state: str
    agent_version: str
    agent_status: str  # "Ready", "Not Ready", "" when no agent reports
    agent_message: str
    extensions: tuple[Extension, ...] = ()


@dataclass(frozen=True, slots=True)
class RestorePointCollection:
    """A restore-point collection of a VM (instant restore snapshots)."""

    subscription_id: str
    resource_group: str
    name: str
    source_vm_id: str
    restore_points: int

    @property
    def id(self) -> str:
        """The collection's ARM resource id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Compute/restorePointCollections/{self.name}"
        )


@dataclass(frozen=True, slots=True)
class Lock:
    """A management lock on a resource group."""

    subscription_id: str
    resource_group: str
    name: str
    level: str  # CanNotDelete or ReadOnly
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a mutating call did: the Azure job or operation it started, for the thread."""

    ok: bool
    summary: str
    job_id: str | None = None
    operation_id: str | None = None
    correlation_id: str | None = None
    portal_url: str | None = None
    details: dict[str, str] = field(default_factory=dict)
