"""Settle requests whose runner died (a replica killed mid-execution), at start and periodically.

Approved requests that never started run now, once (no Azure call happens before approved ->
running). Running ones are never re-run blindly: they are marked interrupted with what to check,
or succeeded when the runner recorded what Azure returned (the job or operation id) before it
died. A backup job of the VM that merely started after the approval proves nothing: the schedule
starts jobs too.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from functools import partial
from typing import Any

from actions.approvals import ApprovalRequest, Status
from actions.names import action_label
from actions.resources import Outcome
from bot.blocks.actions import outcome_reply
from bot.blocks.pack import Reply
from bot.execution import BOT, execute, refresh_card, request_lang
from bot.home import refresh_homes
from bot.listeners import Deps
from bot.logging import new_ref
from bot.replies import post_one
from bot.sentences import check_hint, sentence
from bot.vm_choice import failure_reply

log = logging.getLogger(__name__)


def reconcile(deps: Deps, client: Any) -> int:
    """Settle requests whose runner died: approved but never started ones run now (once);
    running ones are never re-run blindly but marked interrupted, or succeeded when a read proves
    the change happened. Returns how many requests it took over."""
    if deps.ledger is None or deps.background is None:
        return 0
    now = deps.clock()
    before = now - deps.settings.lease
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
    refresh_homes(deps, client, request)
    lang = request_lang(deps, request.id)
    said = sentence("not_started", lang, action=action_label(request.action, lang))
    _tell(deps, client, request, failure_reply(ref, said, lang=lang))
    return 1


def _interrupted(
    deps: Deps, client: Any, request: ApprovalRequest, runner: str | None, before: datetime
) -> int:
    assert deps.ledger is not None
    done = _returned(request)
    ref = new_ref()
    if done is not None:
        outcome: dict[str, Any] = {**asdict(done), "interrupted": True, "runner": runner}
        to = Status.SUCCEEDED
    else:
        outcome = {"error": "interrupted", "runner": runner, "ref": ref}
        to = Status.FAILED
    if not deps.ledger.take_over(request.id, before, to, outcome=outcome):
        return 0  # another replica settled it, or the runner came back
    log.warning("settled an interrupted request", extra={"ref": ref, "request": request.id})
    deps.ledger.audit(
        "succeeded" if done else "interrupted",
        actor=BOT,
        request=request,
        runner=runner,
        ref=ref,
        job_id=done.job_id if done else None,
        operation_id=done.operation_id if done else None,
    )
    counter = deps.metrics.actions_executed if done else deps.metrics.actions_failed
    counter.labels(request.action).inc()
    refresh_card(deps, client, request.id)
    refresh_homes(deps, client, request)
    lang = request_lang(deps, request.id)
    if done is not None:
        _tell(deps, client, request, outcome_reply(request, done, lang=lang))
        return 1
    said = sentence(
        "interrupted",
        lang,
        action=action_label(request.action, lang),
        check=check_hint(request.action, lang),
    )
    _tell(deps, client, request, failure_reply(ref, said, lang=lang))
    return 1


def _returned(request: ApprovalRequest) -> Outcome | None:
    """What the runner recorded Azure returned before it died, when it recorded a success that
    names a job or an operation; None otherwise (the call may or may not have happened)."""
    recorded = dict(request.outcome)
    if recorded.get("phase") != "returned" or recorded.get("ok") is not True:
        return None
    job, operation = recorded.get("job_id"), recorded.get("operation_id")
    if not (job or operation):
        return None
    return Outcome(
        ok=True,
        summary=str(recorded.get("summary") or ""),
        job_id=str(job) if job else None,
        operation_id=str(operation) if operation else None,
        correlation_id=_text(recorded.get("correlation_id")),
        portal_url=_text(recorded.get("portal_url")),
    )


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _tell(deps: Deps, client: Any, request: ApprovalRequest, reply: Reply) -> None:
    thread = request.thread_ts or request.card_ts
    post_one(deps, client, request.channel, thread, reply, "outcome")
