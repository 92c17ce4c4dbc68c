"""From a job outcome to an incident: read the job, find the error, fold it in.

Alerts carry no error code: the job (``jobId``) is read through the Azure SDK for its error
details, which the knowledge base's matcher reads like a paste. Azure throttling or failing sends
the inbox row back with a growing delay (``backoff``); after ``READ_ATTEMPTS`` the incident is
recorded with what the alert says, so a row is never lost and never holds up the others. Polled
rows go through ``handle`` too (the poller's sink): same matching, same dedupe per job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine

from actions.errors import (
    AzureAuthError,
    AzureError,
    AzureThrottled,
    AzureTimeout,
    AzureUnavailable,
)
from incidents import inbox
from incidents.model import JobOutcome
from incidents.state import IncidentState, Recorded
from knowledge.loader import KnowledgeBase
from knowledge.matcher import matcher_for

log = logging.getLogger(__name__)

READ_ATTEMPTS: Final = 6  # job reads tried before the alert's own words are used
LEASE: Final = timedelta(minutes=2)
TRANSIENT = (AzureThrottled, AzureUnavailable, AzureTimeout, AzureAuthError)
JobReader = Callable[[str, str], Any]  # (vault id, job name) -> actions.resources.Job


class ReadLater(Exception):
    """Azure is throttling or failing: try this outcome again later."""


def backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4, 8 minutes... at most 15 minutes before the next try."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 900))


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The code an incident is filed under (the knowledge base's when it knows the error)."""

    code: str
    known: bool


class Processor:
    """Turns outcomes into incidents; ``handle`` is the poller's sink."""

    def __init__(
        self,
        state: IncidentState,
        kb: KnowledgeBase,
        *,
        route: Callable[[str], str | None],
        read_job: JobReader | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.state, self.kb, self.route = state, kb, route
        self.read_job, self.clock = read_job, clock
        self._matcher = matcher_for(kb)

    def handle(self, outcome: JobOutcome, *, may_defer: bool = False) -> Recorded | None:
        """Fold one outcome in; with ``may_defer``, ReadLater when Azure cannot say now."""
        now = self.clock()
        if outcome.succeeded:
            self.state.record_success(outcome, now=now)
            return None
        if not outcome.error_codes:
            outcome = self._with_job(outcome, may_defer=may_defer)
        found = self.diagnose(outcome)
        return self.state.record_failure(
            outcome, code=found.code, channel=self.route(outcome.vault_id), now=now
        )

    def diagnose(self, outcome: JobOutcome) -> Diagnosis:
        """The knowledge base's code for the job's codes and message, else its first code."""
        text = " ".join([*outcome.error_codes, outcome.error_message]).strip()
        if text:
            analysis = self._matcher.analyse(text)
            best = analysis.matches or analysis.suggestions[:1]
            if best:
                return Diagnosis(best[0].entry.code, True)
        code = outcome.error_codes[0] if outcome.error_codes else ""
        return Diagnosis(code, False)

    def _with_job(self, outcome: JobOutcome, *, may_defer: bool) -> JobOutcome:
        """The outcome with the job's error details, when Azure gives them."""
        job_name = outcome.job_id.rstrip("/").rsplit("/", 1)[-1] if outcome.job_id else ""
        if self.read_job is None or not job_name or "/backupjobs/" not in outcome.job_id.lower():
            return outcome
        if "/microsoft.recoveryservices/vaults/" not in outcome.vault_id.lower():
            return outcome  # a Backup vault's job: not readable through Recovery Services
        try:
            job = self.read_job(outcome.vault_id, job_name)
        except TRANSIENT as exc:
            if may_defer:
                raise ReadLater(type(exc).__name__) from exc
            log.warning("job not read: Azure unavailable", extra={"error": type(exc).__name__})
            return outcome
        except AzureError as exc:  # 404/403: the alert's own words will do
            log.info("job not read", extra={"error": type(exc).__name__, "status": exc.status})
            return outcome
        codes = [c for c in (str(job.error_title or "").strip(),) if c and " " not in c]
        if job.error_code is not None:
            codes.append(str(job.error_code))
        message = " ".join(x for x in (job.error_title, job.error_message) if x).strip()
        return replace(
            outcome,
            error_codes=tuple(dict.fromkeys(codes)),
            error_message=message or outcome.error_message,
        )

    def work_inbox(self, engine: Engine, *, limit: int = 20) -> int:
        """Claim due inbox rows and process them; how many were settled."""
        now = self.clock()
        settled = 0
        for row in inbox.claim(engine, now, LEASE, limit=limit):
            give_up = row.attempts >= READ_ATTEMPTS
            try:
                self.handle(row.outcome, may_defer=not give_up)
            except ReadLater as exc:
                inbox.fail(
                    engine,
                    row.id,
                    str(exc),
                    now=now,
                    retry_in=backoff(row.attempts),
                    max_attempts=READ_ATTEMPTS + 1,
                )
                continue
            except Exception as exc:  # the store or a bug: the row comes back, never lost
                log.exception("alert not processed", extra={"alert_id": row.outcome.alert_id})
                inbox.fail(
                    engine,
                    row.id,
                    type(exc).__name__,
                    now=now,
                    retry_in=backoff(row.attempts),
                    max_attempts=1_000,
                )
                continue
            inbox.done(engine, row.id)
            settled += 1
        return settled


class Worker:
    """Calls ``step`` in a daemon thread until stopped; an idle step waits ``idle`` seconds."""

    def __init__(self, name: str, step: Callable[[], int], *, idle: float = 1.0) -> None:
        self._step, self._idle = step, idle
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Worker:
        """Start the thread."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the step in progress."""
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self._step()
            except Exception:  # the store may be away for a moment: the next round tries again
                log.warning("incident worker step failed", exc_info=True)
                busy = 0
            if not busy and self._stop.wait(self._idle):
                break
