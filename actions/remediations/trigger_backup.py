"""``trigger_backup``: an on-demand backup of the VM ("Back up now"), kept until a date."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

from actions.base import Context, Operation, Params, Plan
from actions.diagnostics.protection_status import is_stopped
from actions.errors import NotAllowed
from actions.resolve import describe, fresh_item, item_id, running_job
from actions.resources import Outcome

DEFAULT_RETENTION = timedelta(days=30)
MAX_YEARS = 10  # Azure allows 99; a chat button shouldn't keep data that long by mistake


class TriggerBackupParams(Params):
    """Until when (UTC date) the recovery point is kept."""

    retain_until: date


def _own(params: Params) -> TriggerBackupParams:
    if isinstance(params, TriggerBackupParams):
        return params
    return TriggerBackupParams.model_validate(params.model_dump())


def latest_allowed(today: date) -> date:
    """The furthest retain-until date: ``MAX_YEARS`` from today (28 Feb for 29 Feb)."""
    try:
        return today.replace(year=today.year + MAX_YEARS)
    except ValueError:
        return today.replace(year=today.year + MAX_YEARS, day=28)


def expiry(day: date) -> datetime:
    """The retain-until date as the instant Azure gets: its start, in UTC."""
    return datetime.combine(day, time(0), tzinfo=UTC)


class TriggerBackup:
    """Starts one on-demand backup of this VM in its vault with the given retain-until date.
    Nothing else changes: the policy and the scheduled backups stay as they are. Refused while
    protection is stopped or another backup job of the VM is running."""

    name: ClassVar[str] = "trigger_backup"
    params_model: ClassVar[type[Params]] = TriggerBackupParams

    def default_params(self, ctx: Context) -> Params:
        """Keep the recovery point for 30 days."""
        return TriggerBackupParams(retain_until=(ctx.now + DEFAULT_RETENTION).date())

    def plan(self, params: Params, ctx: Context) -> Plan:
        """POST backup on the protected item, after checking date, state and running jobs."""
        p, item = _own(params), ctx.item
        blocked = None
        today = ctx.now.astimezone(UTC).date()
        if p.retain_until <= today:
            blocked = f"The retain-until date {p.retain_until} is not in the future."
        elif p.retain_until > latest_allowed(today):
            blocked = f"The retain-until date {p.retain_until} is more than 10 years away."
        elif is_stopped(item.protection_state):
            blocked = f"Protection is {item.protection_state}: resume protection first."
        elif (job := running_job(ctx.api, item, now=ctx.now)) is not None:
            blocked = f"Backup job {job.name} of this VM is still running."
        return Plan(
            self.name,
            describe(item),
            (
                Operation(
                    "POST",
                    item_id(item) + "/backup",
                    f"start an on-demand backup, kept until {p.retain_until} (UTC)",
                ),
            ),
            (
                "the vault still protects the VM and protection is not stopped",
                "no backup job of the VM is in progress",
                "the retain-until date is in the future and at most 10 years away",
            ),
            blocked,
            ("the Azure job is followed to its end and its status posted in the thread",),
        )

    def execute(self, params: Params, ctx: Context) -> Outcome:
        """Re-check against the item as it is now, then start the backup."""
        ctx = dataclasses.replace(ctx, item=fresh_item(ctx.api, ctx.item))
        plan = self.plan(params, ctx)
        if plan.blocked:
            raise NotAllowed(plan.blocked)
        return ctx.api.trigger_backup(ctx.item, retain_until=expiry(_own(params).retain_until))
