"""``vm_agent_status``: the guest agent, Azure Backup's snapshot extension, power and
provisioning state, from the VM's instance view."""

from __future__ import annotations

from typing import ClassVar

from actions.base import Context, Finding, Report
from actions.resources import Extension, VmStatus

_MAX_MESSAGE = 200  # extension messages can be pages of log; the thread needs the gist


def failed_snapshot_extensions(status: VmStatus) -> list[Extension]:
    """The VMSnapshot / VMSnapshotLinux extensions whose state says they failed."""
    return [e for e in status.extensions if e.is_backup_snapshot and e.failed]


def _extension(ext: Extension) -> Finding:
    value = f"{ext.state or 'unknown'} (version {ext.version or '?'})"
    if ext.message:
        message = " ".join(ext.message.split())
        value += ": " + (
            message[: _MAX_MESSAGE - 1] + "…" if len(message) > _MAX_MESSAGE else message
        )
    return Finding(f"Extension {ext.name}", value, not ext.failed)


class VmAgentStatus:
    """Is the VM able to take a backup snapshot?"""

    name: ClassVar[str] = "vm_agent_status"

    def run(self, ctx: Context) -> Report:
        """Read the instance view and judge each part."""
        status = ctx.api.get_vm_status(ctx.item.vm)
        power = status.power_state or "unknown"
        # A stopped VM is backed up offline: only a running VM's power state is a good sign.
        findings = [
            Finding("Power state", power, True if "running" in power.lower() else None),
            Finding(
                "Provisioning state",
                status.provisioning_state or "unknown",
                status.provisioning_state.lower() == "succeeded",
            ),
            Finding(
                "Guest agent",
                status.agent_status or "not reporting",
                status.agent_status.lower() == "ready",
            ),
            Finding("Agent version", status.agent_version or "unknown"),
        ]
        if status.agent_message:
            findings.append(Finding("Agent message", status.agent_message[:_MAX_MESSAGE]))
        snapshots = [e for e in status.extensions if e.is_backup_snapshot]
        findings += [_extension(e) for e in snapshots]
        if not snapshots:
            findings.append(Finding("Snapshot extension", "not installed (added at first backup)"))
        failed = failed_snapshot_extensions(status)
        problems = [f for f in findings if f.ok is False]
        summary = (
            f"{len(problems)} problem(s): " + ", ".join(f.label for f in problems) + "."
            if problems
            else "Agent and snapshot extension look fine."
        )
        return Report(
            self.name,
            ctx.item.vm.name,
            tuple(findings),
            summary,
            ("remove_snapshot_extension",) if failed else (),
            {"failed_extensions": [e.name for e in failed]},
        )
