"""``protection_status``: the item's protection state, health, last backup, and a running job."""

from __future__ import annotations

from typing import ClassVar

from actions.base import Context, Finding, Report
from actions.resolve import fresh_item, running_job

STOPPED = frozenset({"protectionstopped", "backupssuspended"})


def is_stopped(state: str) -> bool:
    """True when protection is stopped or suspended (resume_protection applies)."""
    return state.casefold() in STOPPED


class ProtectionStatus:
    """How the vault sees the VM."""

    name: ClassVar[str] = "protection_status"

    def run(self, ctx: Context) -> Report:
        """Read the item afresh and the vault's running jobs."""
        item = fresh_item(ctx.api, ctx.item)
        last = item.last_backup_status
        when = (
            item.last_backup_time.isoformat(timespec="minutes")
            if item.last_backup_time
            else "never"
        )
        job = running_job(ctx.api, item, now=ctx.now)
        findings = [
            Finding(
                "Protection state", item.protection_state, item.protection_state == "Protected"
            ),
            Finding("Health", item.health_status, item.health_status == "Passed"),
            Finding(
                "Last backup",
                f"{last or 'none'} at {when}",
                {"healthy": True, "unhealthy": False}.get(last.casefold()),
            ),
            Finding("Running job", f"{job.operation} {job.name}" if job else "none"),
        ]
        suggestions: list[str] = []
        if is_stopped(item.protection_state):
            suggestions.append("resume_protection")
        if job is not None:
            suggestions.append("cancel_job")
        elif item.protection_state == "Protected" and last.casefold() == "unhealthy":
            suggestions.append("trigger_backup")
        problems = [f.label for f in findings if f.ok is False]
        summary = "Problems: " + ", ".join(problems) + "." if problems else "Protection is healthy."
        return Report(
            self.name,
            item.vm.name,
            tuple(findings),
            summary,
            tuple(suggestions),
            {"protection_state": item.protection_state, "running_job": job.name if job else None},
        )
