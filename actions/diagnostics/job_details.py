"""``job_details``: the VM's latest failed backup job (code, message, recommendations, tasks), and
whether its error agrees with the error matched in the paste."""

from __future__ import annotations

from typing import ClassVar

from actions.base import Context, Finding, Report
from actions.resolve import JOB_LOOKBACK, job_matches, latest_failed_job
from knowledge.matcher import Matcher


class JobDetails:
    """What Azure itself said about the last failure."""

    name: ClassVar[str] = "job_details"

    def __init__(self, matcher: Matcher | None = None) -> None:
        self._matcher = matcher

    def run(self, ctx: Context, *, matched_code: str | None = None) -> Report:
        """Read the latest failed job; with ``matched_code``, say whether it agrees."""
        job = latest_failed_job(ctx.api, ctx.item, now=ctx.now)
        target = ctx.item.vm.name
        if job is None:
            days = JOB_LOOKBACK.days
            found = (Finding("Failed jobs", f"none in the last {days} days", True),)
            return Report(self.name, target, found, f"No failed job in the last {days} days.")
        matches = job_matches(job, self._matcher)
        codes = {c.casefold() for m in matches for c in (m.code, *m.entry.all_codes)}
        offered = list(dict.fromkeys(r for m in matches for r in m.entry.remediations))
        started = job.start_time.isoformat(timespec="minutes") if job.start_time else "?"
        findings = [
            Finding("Job", f"{job.operation} {job.name}, started {started}, {job.status}", False),
            Finding("Error code", str(job.error_code) if job.error_code is not None else "none"),
            Finding("Error", job.error_title or "none"),
            Finding("Message", job.error_message or "none"),
        ]
        findings += [Finding("Recommendation", r) for r in job.recommendations]
        findings += [
            Finding(f"Task {t.name}", t.status, None if "fail" not in t.status.lower() else False)
            for t in job.tasks
        ]
        agrees: bool | None = None
        if matched_code is not None:
            agrees = matched_code.casefold() in codes
            say = "agrees with" if agrees else "differs from"
            findings.append(
                Finding("Pasted error", f"the job's error {say} {matched_code}", agrees)
            )
        return Report(
            self.name,
            target,
            tuple(findings),
            job.error_title or job.error_message or f"Job {job.name} failed.",
            tuple(offered),
            {"job": job.name, "job_id": job.id, "codes": sorted(codes), "agrees": agrees},
        )
