"""``restore_points``: the VM's instant restore points across its collections, against the
limit of 18 (UserErrorRpCollectionLimitReached)."""

from __future__ import annotations

from typing import ClassVar

from actions.base import Context, Finding, Report
from actions.diagnostics.locks import scope_groups
from actions.ports import BackupApi
from actions.resources import RestorePointCollection, VmRef

LIMIT = 18


def vm_collections(api: BackupApi, vm: VmRef) -> list[RestorePointCollection]:
    """The collections whose source is ``vm``, in its group and the ``AzureBackupRG_*`` groups."""
    return [
        c
        for group in scope_groups(api, vm)
        for c in api.list_restore_point_collections(vm.subscription_id, group)
        if c.source_vm_id.casefold() == vm.id.casefold()
    ]


class RestorePoints:
    """Counts the VM's restore points."""

    name: ClassVar[str] = "restore_points"

    def run(self, ctx: Context) -> Report:
        """Count restore points per collection and in total."""
        vm = ctx.item.vm
        collections = vm_collections(ctx.api, vm)
        total = sum(c.restore_points for c in collections)
        findings = [
            Finding(f"{c.resource_group} / {c.name}", f"{c.restore_points} restore points")
            for c in collections
        ]
        findings.append(Finding("Total", f"{total} of at most {LIMIT}", total < LIMIT))
        full = total >= LIMIT
        return Report(
            self.name,
            vm.name,
            tuple(findings),
            f"The VM has {total} restore points" + (" (limit reached)." if full else "."),
            ("delete_restore_point_collection",) if full else (),
            {"total": total, "collections": [c.id for c in collections]},
        )
