"""``remove_rg_lock``: remove a management lock that keeps Azure Backup from its restore points."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from pydantic import Field

from actions.base import Context, Operation, Params, Plan
from actions.diagnostics.locks import blocking, in_scope, scope_locks
from actions.errors import NotAllowed
from actions.resolve import describe, fresh_item
from actions.resources import Lock, Outcome

_NAME = r"^[^/\\?#%&<>*:]*$"  # ARM forbids these in names; a path can't be smuggled in


class RemoveRgLockParams(Params):
    """Which lock: its resource group (the VM's or an AzureBackupRG_* one) and name."""

    resource_group: str = Field(default="", max_length=90, pattern=_NAME)
    lock_name: str = Field(default="", max_length=260, pattern=_NAME)


def _own(params: Params) -> RemoveRgLockParams:
    if isinstance(params, RemoveRgLockParams):
        return params
    return RemoveRgLockParams.model_validate(params.model_dump())


def lock_id(lock: Lock) -> str:
    """The lock's ARM resource id (at resource-group level)."""
    return (
        f"/subscriptions/{lock.subscription_id}/resourceGroups/{lock.resource_group}"
        f"/providers/Microsoft.Authorization/locks/{lock.name}"
    )


def _look(p: RemoveRgLockParams, ctx: Context) -> tuple[str | None, Lock | None]:
    vm = ctx.item.vm
    if not p.lock_name:
        return "No lock on the VM's or the restore-point resource groups.", None
    if not in_scope(vm, p.resource_group):
        return (
            f"{p.resource_group} is neither the VM's resource group nor an AzureBackupRG_* group.",
            None,
        )
    locks = ctx.api.list_locks(vm.subscription_id, p.resource_group)
    lock = next((k for k in locks if k.name.lower() == p.lock_name.lower()), None)
    if lock is None:
        return f"There is no lock {p.lock_name} on {p.resource_group}.", None
    return None, lock


class RemoveRgLock:
    """Removes one management lock from the VM's resource group or from an AzureBackupRG_*
    restore-point group of its subscription, so Azure Backup can clean up restore points again.
    Nothing else changes; whoever set the lock may want to set it again afterwards."""

    name: ClassVar[str] = "remove_rg_lock"
    params_model: ClassVar[type[Params]] = RemoveRgLockParams

    def default_params(self, ctx: Context) -> Params:
        """The first lock that blocks Azure Backup, else the first lock in scope."""
        locks = scope_locks(ctx.api, ctx.item.vm)
        lock = next((k for k in locks if blocking(k)), locks[0] if locks else None)
        if lock is None:
            return RemoveRgLockParams()
        return RemoveRgLockParams(resource_group=lock.resource_group, lock_name=lock.name)

    def plan(self, params: Params, ctx: Context) -> Plan:
        """DELETE the lock, showing its name, level and notes."""
        p = _own(params)
        blocked, lock = _look(p, ctx)
        shown = lock or Lock(ctx.item.vm.subscription_id, p.resource_group, p.lock_name, "?")
        what = f"remove the {shown.level} lock '{shown.name}' (notes: {shown.notes or 'none'})"
        return Plan(
            self.name,
            f"resource group {p.resource_group} of {describe(ctx.item)}",
            (Operation("DELETE", lock_id(shown), what),),
            (
                "the group is the VM's or an AzureBackupRG_* group of its subscription",
                "the lock is still there",
            ),
            blocked,
        )

    def execute(self, params: Params, ctx: Context) -> Outcome:
        """Re-read the lock, then remove it."""
        ctx = dataclasses.replace(ctx, item=fresh_item(ctx.api, ctx.item))
        blocked, lock = _look(_own(params), ctx)
        if blocked or lock is None:
            raise NotAllowed(blocked or "The lock is gone.")
        return ctx.api.delete_lock(lock)
