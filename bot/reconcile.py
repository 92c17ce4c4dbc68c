"""Settle requests whose runner died (a replica killed mid-execution), at start and periodically.

Approved requests that never started run now, once (no Azure call happens before approved ->
running). Running ones are never re-run blindly: they are marked interrupted with what to check,
or succeeded when a read proves the change happened (a backup job of that VM that started after
the approval).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from actions.approvals import ApprovalRequest, Status
from actions.names import action_label
from actions.resources import Job, Outcome
from bot.blocks.actions import outcome_reply
from bot.blocks.pack import Reply
from bot.execution import BOT, LEASE_STALE, execute, item_of, refresh_card, request_lang
from bot.listeners import Deps
from bot.logging import new_ref
from bot.replies import post_one
from bot.sentences import check_hint, sentence
from bot.vm_choice import failure_reply

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(seconds=5)  # Azure's clock against ours, when matching a job to a request


def reconcile(deps: Deps, client: Any) -> int:
    """Settle requests whose runner died: approved but never started ones run now (once);
    running ones are never re-run blindly but marked interrupted, or succeeded when a read proves
    the change happened. Returns how many requests it took over."""
    if deps.ledger is None or deps.background is None:
        return 0
    now = deps.clock()
    before = now - LEASE_STALE
    taken = 0
    for request, _ in deps.ledger.stale(Status.APPROVED, before):
        # No Azure call happens before approved -> running, so starting it now is safe.
        if request.decided_at is not None and now - request.decided_at > deps.approval_ttl:
            taken += _not_started(deps, client, request)
        else:
            deps.background.submit(request, partial(execute, deps, client, request.id))
            taken += 1
    for request, runner in deps.ledger.stale(Status.RUNNING, before):
        taken += _interrupted(deps, client, request, runner, before)
    return taken


def _not_started(deps: Deps, client: Any, request: ApprovalRequest) -> int:
    assert deps.ledger is not None
    ref = new_ref()
    outcome = {"error": "not started in time", "ref": ref}
    if not deps.ledger.transition(request.id, Status.APPROVED, Status.FAILED, outcome=outcome):
        return 0
    deps.ledger.audit("failed", actor=BOT, request=request, **outcome)
    refresh_card(deps, client, request.id)
    lang = request_lang(deps, request.id)
    said = sentence("not_started", lang, action=action_label(request.action, lang))
    _tell(deps, client, request, failure_reply(ref, said, lang=lang))
    return 1


def _interrupted(
    deps: Deps, client: Any, request: ApprovalRequest, runner: str | None, before: datetime
) -> int:
    assert deps.ledger is not None
    job = _proof(deps, request)
    ref = new_ref()
    if job is not None:
        done = Outcome(
            ok=True, summary=sentence("confirmed_backup", "en", entity=job.entity), job_id=job.name
        )
        outcome: dict[str, Any] = {**asdict(done), "interrupted": True, "runner": runner}
        to = Status.SUCCEEDED
    else:
        outcome = {"error": "interrupted", "runner": runner, "ref": ref}
        to = Status.FAILED
    if not deps.ledger.take_over(request.id, before, to, outcome=outcome):
        return 0  # another replica settled it, or the runner came back
    log.warning("settled an interrupted request", extra={"ref": ref, "request": request.id})
    deps.ledger.audit(
        "succeeded" if job else "interrupted",
        actor=BOT,
        request=request,
        runner=runner,
        ref=ref,
        job_id=job.name if job else None,
    )
    counter = deps.metrics.actions_executed if job else deps.metrics.actions_failed
    counter.labels(request.action).inc()
    refresh_card(deps, client, request.id)
    lang = request_lang(deps, request.id)
    if job is not None:
        shown = replace(done, summary=sentence("confirmed_backup", lang, entity=job.entity))
        _tell(deps, client, request, outcome_reply(request, shown, lang=lang))
        return 1
    said = sentence(
        "interrupted",
        lang,
        action=action_label(request.action, lang),
        check=check_hint(request.action, lang),
    )
    _tell(deps, client, request, failure_reply(ref, said, lang=lang))
    return 1


def _proof(deps: Deps, request: ApprovalRequest) -> Job | None:
    """A backup job of the request's VM started after the approval: proof the trigger went
    through. Only reads; None when nothing proves it (or the read failed)."""
    if request.action != "trigger_backup" or deps.azure is None or request.decided_at is None:
        return None
    try:
        item = item_of(deps, request)
        if item is None:
            return None
        since = request.decided_at - CLOCK_SKEW
        jobs = deps.azure.list_jobs(item.vault, since=since)
    except Exception:
        log.warning("could not read jobs to settle a request", extra={"request": request.id})
        return None
    name = item.friendly_name.casefold()
    found: list[Job] = [
        j
        for j in jobs
        if j.entity.casefold() == name
        and j.operation.casefold() == "backup"
        and j.start_time is not None
        and _utc(j.start_time) >= since
    ]
    return found[-1] if found else None  # newest first: the earliest one is ours


def _utc(moment: datetime) -> datetime:
    # The SDK hands some times back without a zone; Resource Manager's are UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _tell(deps: Deps, client: Any, request: ApprovalRequest, reply: Reply) -> None:
    thread = request.thread_ts or request.card_ts
    post_one(deps, client, request.channel, thread, reply, "outcome")
