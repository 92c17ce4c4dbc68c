"""``remove_rg_lock``: remove a management lock that keeps Azure Backup from its restore points."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from pydantic import Field

from actions.base import Context, Operation, Params, Plan
from actions.diagnostics.locks import cleanup_locks, restore_point_groups
from actions.errors import NotAllowed
from actions.resolve import describe, fresh_item
from actions.resources import Lock, Outcome

_NAME = r"^[^/\\?#%&<>*:]*$"  # ARM forbids these in names; a path can't be smuggled in


class RemoveRgLockParams(Params):
    """Which lock: its resource group (one holding the VM's restore points) and name."""

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
        return "No lock on the resource group of the VM's restore points.", None
    groups = {g.casefold() for g in restore_point_groups(ctx.api, vm)}
    if p.resource_group.casefold() not in groups:
        return (
            f"{p.resource_group} does not hold restore points of VM {vm.name}: "
            "only a lock there blocks their cleanup.",
            None,
        )
    locks = ctx.api.list_locks(vm.subscription_id, p.resource_group)
    lock = next((k for k in locks if k.name.lower() == p.lock_name.lower()), None)
    if lock is None:
        return f"There is no lock {p.lock_name} on {p.resource_group}.", None
    return None, lock


class RemoveRgLock:
    """Removes one management lock from the resource group holding this VM's restore-point
    collections (``AzureBackupRG_<geo>_<n>`` or the policy's own group), so Azure Backup can clean
    up restore points again. Locks anywhere else are never touched. Nothing else changes; whoever
    set the lock may want to set it again afterwards."""

    name: ClassVar[str] = "remove_rg_lock"
    params_model: ClassVar[type[Params]] = RemoveRgLockParams

    def default_params(self, ctx: Context) -> Params:
        """The first lock that blocks the cleanup of the VM's restore points; none: empty."""
        locks = cleanup_locks(ctx.api, ctx.item.vm)
        lock = locks[0] if locks else None
        if lock is None:
            return RemoveRgLockParams()
        return RemoveRgLockParams(resource_group=lock.resource_group, lock_name=lock.name)

    def plan(self, params: Params, ctx: Context) -> Plan:
        """DELETE the lock, showing its name, level and notes."""
        p = _own(params)
        blocked, lock = _look(p, ctx)
        shown = lock or Lock(ctx.item.vm.subscription_id, p.resource_group, p.lock_name, "?")
        what = (
            f"remove the lock '{shown.name}' (level {shown.level}; notes: {shown.notes or 'none'})"
        )
        return Plan(
            self.name,
            f"resource group {p.resource_group} of {describe(ctx.item)}",
            (Operation("DELETE", lock_id(shown), what),),
            (
                "the group holds this VM's restore-point collections",
                "the lock is still there, with the same level and notes",
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
