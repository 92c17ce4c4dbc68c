"""``delete_restore_point_collection``: delete the VM's restore-point collection (instant-restore
snapshots) when the limit of 18 restore points blocks new backups."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from pydantic import Field

from actions.base import Context, Operation, Params, Plan
from actions.diagnostics.locks import in_scope
from actions.diagnostics.restore_points import vm_collections
from actions.errors import NotAllowed
from actions.resolve import describe, fresh_item
from actions.resources import Outcome, RestorePointCollection

_NAME = r"^[\w.()-]*$"


class DeleteRestorePointCollectionParams(Params):
    """Which collection: its resource group and name."""

    resource_group: str = Field(default="", max_length=90, pattern=_NAME)
    collection_name: str = Field(default="", max_length=260, pattern=_NAME)


def _own(params: Params) -> DeleteRestorePointCollectionParams:
    if isinstance(params, DeleteRestorePointCollectionParams):
        return params
    return DeleteRestorePointCollectionParams.model_validate(params.model_dump())


def _look(
    p: DeleteRestorePointCollectionParams, ctx: Context
) -> tuple[str | None, RestorePointCollection | None]:
    vm = ctx.item.vm
    if not p.collection_name:
        return "The VM has no restore-point collection.", None
    if not in_scope(vm, p.resource_group):
        return (
            f"{p.resource_group} is neither the VM's resource group nor an AzureBackupRG_* group.",
            None,
        )
    found = ctx.api.list_restore_point_collections(vm.subscription_id, p.resource_group)
    rpc = next((c for c in found if c.name.lower() == p.collection_name.lower()), None)
    if rpc is None:
        return f"There is no collection {p.collection_name} in {p.resource_group}.", None
    if rpc.source_vm_id.casefold() != vm.id.casefold():
        return f"Collection {rpc.name} holds restore points of another VM.", rpc
    return None, rpc


class DeleteRestorePointCollection:
    """Deletes one restore-point collection of this VM: its instant-restore snapshots go, so
    restores from them are no longer possible; recovery points in the vault are kept. Azure
    Backup creates a new collection at the next backup."""

    name: ClassVar[str] = "delete_restore_point_collection"
    params_model: ClassVar[type[Params]] = DeleteRestorePointCollectionParams

    def default_params(self, ctx: Context) -> Params:
        """The VM's collection with the most restore points, if any."""
        found = vm_collections(ctx.api, ctx.item.vm)
        if not found:
            return DeleteRestorePointCollectionParams()
        rpc = max(found, key=lambda c: c.restore_points)
        return DeleteRestorePointCollectionParams(
            resource_group=rpc.resource_group, collection_name=rpc.name
        )

    def plan(self, params: Params, ctx: Context) -> Plan:
        """DELETE the collection, after checking it is this VM's and in scope."""
        p = _own(params)
        blocked, rpc = _look(p, ctx)
        vm = ctx.item.vm
        shown = rpc or RestorePointCollection(
            vm.subscription_id, p.resource_group, p.collection_name, "", 0
        )
        what = f"delete the collection and its {shown.restore_points} restore points"
        return Plan(
            self.name,
            describe(ctx.item),
            (Operation("DELETE", shown.id, what),),
            (
                "the collection's source is this VM",
                "it is in the VM's resource group or an AzureBackupRG_* group",
            ),
            blocked,
            ("recovery points in the vault are kept",),
        )

    def execute(self, params: Params, ctx: Context) -> Outcome:
        """Re-read the collection, then delete it."""
        ctx = dataclasses.replace(ctx, item=fresh_item(ctx.api, ctx.item))
        blocked, rpc = _look(_own(params), ctx)
        if blocked or rpc is None:
            raise NotAllowed(blocked or "The collection is gone.")
        return ctx.api.delete_restore_point_collection(rpc)
