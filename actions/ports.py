"""What the bot needs from Azure, as a Protocol: the SDK layer implements it
(``actions/azure_backup.py``), tests of diagnostics and remediations pass plain fakes.

Every method raises a subclass of ``actions.errors.AzureError`` on failure, never an SDK error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

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


class BackupApi(Protocol):
    """Reads and changes in Azure that the diagnostics and remediations use."""

    # Reads
    def list_protected_vms(self, vault: VaultRef) -> list[ProtectedVm]:
        """The vault's protected Azure VMs."""
        ...

    def list_jobs(
        self, vault: VaultRef, *, since: datetime, status: str | None = None
    ) -> list[Job]:
        """The vault's backup jobs since ``since`` (optionally only of one status), newest first."""
        ...

    def get_job(self, vault: VaultRef, job_name: str) -> Job:
        """One job with its error details and tasks."""
        ...

    def get_vm_status(self, vm: VmRef) -> VmStatus:
        """Power, provisioning and agent state, and the extensions' states (instance view)."""
        ...

    def list_restore_point_collections(
        self, subscription_id: str, resource_group: str
    ) -> list[RestorePointCollection]:
        """The restore-point collections in a resource group, with their restore-point counts."""
        ...

    def list_resource_groups(self, subscription_id: str, *, prefix: str) -> list[str]:
        """Names of the subscription's resource groups starting with ``prefix``."""
        ...

    def list_locks(self, subscription_id: str, resource_group: str) -> list[Lock]:
        """Management locks at the resource group's level."""
        ...

    # Changes (approval-gated; each returns what it started)
    def trigger_backup(self, item: ProtectedVm, *, retain_until: datetime) -> Outcome:
        """Start an on-demand backup and return its job id."""
        ...

    def cancel_job(self, vault: VaultRef, job_name: str) -> Outcome:
        """Ask the service to cancel a running job."""
        ...

    def delete_extension(self, vm: VmRef, extension: Extension) -> Outcome:
        """Remove a VM extension and wait (bounded) for the deletion."""
        ...

    def delete_lock(self, lock: Lock) -> Outcome:
        """Remove a management lock from its resource group."""
        ...

    def delete_restore_point_collection(self, collection: RestorePointCollection) -> Outcome:
        """Delete a restore-point collection and wait (bounded) for the deletion."""
        ...

    def resume_protection(self, item: ProtectedVm, *, policy_id: str) -> Outcome:
        """Resume protection of a stopped or suspended item with the given policy."""
        ...

    def get_job_status(self, vault: VaultRef, job_name: str) -> str:
        """The job's current status (InProgress, Completed, Failed, ...)."""
        ...
