"""``locks``: management locks on the VM's resource group and on the ``AzureBackupRG_*`` groups.

A lock on the group holding the VM's restore-point collections keeps Azure Backup from cleaning up
old restore points, so backups fail once the VM has 18; a ReadOnly lock on the VM's group also
blocks the snapshot extension. Only the first kind is offered for removal: a lock elsewhere may
protect something that has nothing to do with backup.
"""

from __future__ import annotations

from typing import ClassVar

from actions.base import Context, Finding, Report
from actions.ports import BackupApi
from actions.resources import Lock, VmRef

BACKUP_RG_PREFIX = "AzureBackupRG_"


def is_backup_group(resource_group: str) -> bool:
    """True for a restore-point resource group Azure Backup made (``AzureBackupRG_<geo>_<n>``)."""
    return resource_group.casefold().startswith(BACKUP_RG_PREFIX.casefold())


def in_scope(vm: VmRef, resource_group: str) -> bool:
    """True for the groups the bot may look at and change for this VM."""
    return (
        is_backup_group(resource_group) or resource_group.casefold() == vm.resource_group.casefold()
    )


def scope_groups(api: BackupApi, vm: VmRef) -> list[str]:
    """The VM's resource group, then the subscription's ``AzureBackupRG_*`` groups."""
    groups = [vm.resource_group]
    for name in api.list_resource_groups(vm.subscription_id, prefix=BACKUP_RG_PREFIX):
        if is_backup_group(name) and name.casefold() != vm.resource_group.casefold():
            groups.append(name)
    return groups


def scope_locks(api: BackupApi, vm: VmRef) -> list[Lock]:
    """Every lock on the groups of ``scope_groups``."""
    return [
        lock
        for group in scope_groups(api, vm)
        for lock in api.list_locks(vm.subscription_id, group)
    ]


def restore_point_groups(api: BackupApi, vm: VmRef) -> list[str]:
    """The groups (of ``scope_groups``) holding a restore-point collection of ``vm``."""
    return [
        group
        for group in scope_groups(api, vm)
        if any(
            c.source_vm_id.casefold() == vm.id.casefold()
            for c in api.list_restore_point_collections(vm.subscription_id, group)
        )
    ]


def cleanup_locks(api: BackupApi, vm: VmRef) -> list[Lock]:
    """Locks that keep Azure Backup from cleaning up ``vm``'s restore points: any lock on a
    group holding its restore-point collections. The only locks ``remove_rg_lock`` touches."""
    return [
        lock
        for group in restore_point_groups(api, vm)
        for lock in api.list_locks(vm.subscription_id, group)
    ]


def blocking(lock: Lock, rp_groups: list[str]) -> bool:
    """True for a lock that gets in Azure Backup's way: on one of ``rp_groups`` (cleanup of
    restore points), or ReadOnly (the snapshot extension)."""
    in_rp = lock.resource_group.casefold() in {g.casefold() for g in rp_groups}
    return in_rp or lock.level.casefold() == "readonly"


class Locks:
    """Locks that can block restore-point cleanup or the snapshot."""

    name: ClassVar[str] = "locks"

    def run(self, ctx: Context) -> Report:
        """List the locks in scope and flag the ones that block backups."""
        vm = ctx.item.vm
        locks = scope_locks(ctx.api, vm)
        rp_groups = restore_point_groups(ctx.api, vm)
        findings = [
            Finding(
                f"{lock.resource_group} / {lock.name}",
                f"{lock.level}" + (f": {lock.notes}" if lock.notes else ""),
                False if blocking(lock, rp_groups) else None,
            )
            for lock in locks
        ]
        bad = [lock for lock in locks if blocking(lock, rp_groups)]
        removable = [lock for lock in bad if lock.resource_group in rp_groups]
        if not locks:
            findings.append(Finding("Locks", "none on the VM's or the restore-point groups", True))
        summary = (
            f"{len(bad)} lock(s) block Azure Backup." if bad else "No lock blocks Azure Backup."
        )
        return Report(
            self.name,
            vm.name,
            tuple(findings),
            summary,
            ("remove_rg_lock",) if removable else (),
            {"locks": [f"{lock.resource_group}/{lock.name}" for lock in locks]},
        )
