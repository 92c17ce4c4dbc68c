"""``remove_snapshot_extension``: remove Azure Backup's failed VMSnapshot(Linux) extension."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from pydantic import Field

from actions.base import Context, Operation, Params, Plan
from actions.diagnostics.vm_agent_status import failed_snapshot_extensions
from actions.errors import NotAllowed
from actions.resolve import describe, fresh_item
from actions.resources import Extension, Outcome


class RemoveSnapshotExtensionParams(Params):
    """The extension's name on the VM; empty when none failed."""

    extension_name: str = Field(default="", max_length=128, pattern=r"^[\w.-]*$")


def _own(params: Params) -> RemoveSnapshotExtensionParams:
    if isinstance(params, RemoveSnapshotExtensionParams):
        return params
    return RemoveSnapshotExtensionParams.model_validate(params.model_dump())


def _look(p: RemoveSnapshotExtensionParams, ctx: Context) -> tuple[str | None, Extension | None]:
    if not p.extension_name:
        return "The VM has no failed VMSnapshot extension.", None
    status = ctx.api.get_vm_status(ctx.item.vm)
    ext = next((e for e in status.extensions if e.name.lower() == p.extension_name.lower()), None)
    if ext is None:
        return f"The VM has no extension named {p.extension_name}.", None
    if not ext.is_backup_snapshot:
        return f"{ext.name} is not Azure Backup's VMSnapshot extension.", ext
    if not ext.failed:
        return f"Extension {ext.name} is {ext.state or 'not failed'}, not failed.", ext
    return None, ext


class RemoveSnapshotExtension:
    """Removes Azure Backup's snapshot extension (VMSnapshot or VMSnapshotLinux) from this VM,
    only when it is in a failed state. The next backup installs it afresh; nothing else on the
    VM changes. Afterwards, run an on-demand backup (trigger_backup)."""

    name: ClassVar[str] = "remove_snapshot_extension"
    params_model: ClassVar[type[Params]] = RemoveSnapshotExtensionParams

    def default_params(self, ctx: Context) -> Params:
        """The VM's failed snapshot extension, if any."""
        failed = failed_snapshot_extensions(ctx.api.get_vm_status(ctx.item.vm))
        return RemoveSnapshotExtensionParams(extension_name=failed[0].name if failed else "")

    def plan(self, params: Params, ctx: Context) -> Plan:
        """DELETE the extension, after checking it is the snapshot extension and failed."""
        p = _own(params)
        blocked, ext = _look(p, ctx)
        state = f" (now {ext.state}, version {ext.version or '?'})" if ext else ""
        return Plan(
            self.name,
            describe(ctx.item),
            (
                Operation(
                    "DELETE",
                    f"{ctx.item.vm.id}/extensions/{p.extension_name}",
                    f"remove the extension {p.extension_name}{state}",
                ),
            ),
            ("it is Azure Backup's VMSnapshot/VMSnapshotLinux extension", "its state is failed"),
            blocked,
            ("Azure Backup reinstalls the extension at the next backup; then run trigger_backup",),
        )

    def execute(self, params: Params, ctx: Context) -> Outcome:
        """Re-check the extension, remove it, and point at trigger_backup."""
        ctx = dataclasses.replace(ctx, item=fresh_item(ctx.api, ctx.item))
        blocked, ext = _look(_own(params), ctx)
        if blocked or ext is None:
            raise NotAllowed(blocked or "The extension is gone.")
        outcome = ctx.api.delete_extension(ctx.item.vm, ext)
        return dataclasses.replace(outcome, details={**outcome.details, "next": "trigger_backup"})
