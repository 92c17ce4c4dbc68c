"""``cancel_job``: cancel this VM's backup job that is still in progress."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from pydantic import Field

from actions.base import Context, Operation, Params, Plan
from actions.errors import AzureNotFound, NotAllowed
from actions.resolve import describe, fresh_item, running_job, same_entity
from actions.resources import Job, Outcome


class CancelJobParams(Params):
    """The job id (GUID) to cancel; empty when the VM has none running."""

    job_name: str = Field(default="", max_length=64, pattern=r"^[0-9A-Za-z-]*$")


def _own(params: Params) -> CancelJobParams:
    if isinstance(params, CancelJobParams):
        return params
    return CancelJobParams.model_validate(params.model_dump())


def _look(p: CancelJobParams, ctx: Context) -> tuple[str | None, Job | None]:
    if not p.job_name:
        return "No backup job of this VM is in progress.", None
    try:
        job = ctx.api.get_job(ctx.item.vault, p.job_name)
    except AzureNotFound:
        return f"Job {p.job_name} is not in vault {ctx.item.vault.name}.", None
    if not same_entity(job, ctx.item):
        return f"Job {p.job_name} is about {job.entity}, not {ctx.item.vm.name}.", job
    if job.status != "InProgress":
        return f"Job {p.job_name} is {job.status}, not in progress.", job
    return None, job


class CancelJob:
    """Asks Azure Backup to cancel one backup job of this VM that is still in progress. The
    recovery point that job was making is not created; scheduled backups go on as before."""

    name: ClassVar[str] = "cancel_job"
    params_model: ClassVar[type[Params]] = CancelJobParams

    def default_params(self, ctx: Context) -> Params:
        """The VM's newest running job, if any."""
        job = running_job(ctx.api, ctx.item, now=ctx.now)
        return CancelJobParams(job_name=job.name if job else "")

    def plan(self, params: Params, ctx: Context) -> Plan:
        """POST cancel on the job, after checking it is this VM's and still running."""
        p = _own(params)
        blocked, job = _look(p, ctx)
        what = f"cancel the {job.operation} job" if job else "cancel the job"
        if job and job.start_time:
            what += f" started {job.start_time.isoformat(timespec='minutes')}"
        return Plan(
            self.name,
            describe(ctx.item),
            (Operation("POST", f"{ctx.item.vault.id}/backupJobs/{p.job_name}/cancel", what),),
            ("the job belongs to this VM", "the job is still in progress"),
            blocked,
        )

    def execute(self, params: Params, ctx: Context) -> Outcome:
        """Re-check the job, then ask for its cancellation."""
        ctx = dataclasses.replace(ctx, item=fresh_item(ctx.api, ctx.item))
        blocked, _ = _look(_own(params), ctx)
        if blocked:
            raise NotAllowed(blocked)
        return ctx.api.cancel_job(ctx.item.vault, _own(params).job_name)
