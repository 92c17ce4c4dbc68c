"""Request, approve, reject and run a remediation: the approval gate over the ledger, on Slack.

Exactly once comes from the ledger's guarded transitions; this module only goes on when its
transition won. Execution never runs on a listener thread: it is handed to ``deps.background``.
``reconcile`` settles requests whose replica died, at start and periodically.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from actions.approvals import (
    ApprovalRequest,
    Refusal,
    Status,
    check_approve,
    check_reject,
    new_request,
)
from actions.base import Context
from actions.errors import NotAllowed
from actions.remediations import REMEDIATIONS
from actions.resources import Job, Outcome, ProtectedVm
from bot.blocks.actions import action_label, card_blocks, card_text, outcome_reply
from bot.blocks.pack import Reply
from bot.execution import BOT, LEASE_STALE, execute, item_of, refresh_card, request_lang
from bot.listeners import Deps
from bot.logging import new_ref
from bot.replies import post_one, post_private
from bot.sentences import UNKNOWN_ACTION, check_hint, not_allowed, refusal, sentence
from bot.vm_choice import failure_reply, reader_lang
from knowledge.model import Lang

log = logging.getLogger(__name__)


def request_fix(
    deps: Deps,
    client: Any,
    item: ProtectedVm,
    *,
    name: str,
    user: str,
    channel: str,
    thread: str,
    lang: Lang | None = None,
) -> ApprovalRequest | None:
    """Plan ``name`` on ``item`` with default params and post its approval card; None if refused.
    The card, its updates and the outcome are written in ``lang`` (default: ``user``'s)."""
    assert deps.ledger is not None
    lang = lang or reader_lang(deps, client, user)
    assert deps.guardrails is not None
    remediation = REMEDIATIONS.get(name)
    try:
        if remediation is None:
            raise NotAllowed(UNKNOWN_ACTION)
        deps.guardrails.check_enabled(name)
        deps.guardrails.check_item(item)
        ctx = Context(item=item, api=deps.azure, now=deps.clock())
        params = remediation.default_params(ctx)
        plan = remediation.plan(params, ctx)
        if plan.blocked:
            raise NotAllowed(plan.blocked)
    except NotAllowed as exc:
        deps.ledger.audit("refused", actor=user, action=name, reason=str(exc), vm=item.vm.id)
        post_private(deps, client, channel, user, not_allowed(str(exc), lang), thread)
        return None
    request = _new(
        deps, item, name, params.model_dump(mode="json"), plan.text(), user, channel, thread
    )
    _open(deps, client, request, item, lang=lang)
    return request


def editable(name: str) -> bool:
    """True when ``name``'s approval card may offer "Change parameters" (it has parameters)."""
    remediation = REMEDIATIONS.get(name)
    return remediation is not None and bool(remediation.params_model.model_fields)


def supersede(
    deps: Deps,
    client: Any,
    old: ApprovalRequest,
    item: ProtectedVm,
    *,
    args: dict[str, Any],
    plan: str,
    user: str,
) -> ApprovalRequest | None:
    """Replace a pending request by one with new parameters: the old one moves pending ->
    rejected ("superseded"), the new one gets its own card and a fresh expiry. None (and a
    private refusal) when the old one was no longer pending."""
    assert deps.ledger is not None
    lang = request_lang(deps, old.id)
    new = _new(deps, item, old.action, args, plan, old.requester, old.channel, old.thread_ts)
    now = deps.clock()
    if not deps.ledger.transition(
        old.id,
        Status.PENDING,
        Status.REJECTED,
        decided_by=user,
        decided_at=now,
        outcome={"superseded_by": new.id},
    ):
        # Approved, rejected or expired while the modal was open: the click that won stands.
        current = deps.ledger.get(old.id)
        why = Refusal.EXPIRED if current and current.status == Status.EXPIRED else None
        why = why or Refusal.ALREADY_DECIDED
        deps.ledger.audit("refused", actor=user, request=old, reason=why.value)
        said = refusal(why, reader_lang(deps, client, user))
        post_private(deps, client, old.channel, user, said, old.thread_ts)
        return None
    deps.ledger.audit(
        "modified",
        actor=user,
        request=old,
        superseded_by=new.id,
        old_plan_hash=old.plan_hash,
        new_plan_hash=new.plan_hash,
    )
    _open(deps, client, new, item, lang=lang, replaces=old.id)
    refresh_card(deps, client, old.id)
    return new


def _new(
    deps: Deps,
    item: ProtectedVm,
    name: str,
    args: dict[str, Any],
    plan: str,
    user: str,
    channel: str,
    thread: str,
) -> ApprovalRequest:
    return new_request(
        action=name,
        params={"vault": item.vault.id, "vm": item.vm.id, "args": args},
        plan=plan,
        requester=user,
        channel=channel,
        thread_ts=thread,
        now=deps.clock(),
        ttl=deps.approval_ttl,
    )


def _open(
    deps: Deps,
    client: Any,
    request: ApprovalRequest,
    item: ProtectedVm,
    *,
    lang: Lang,
    replaces: str | None = None,
) -> None:
    """Store a new pending request, audit it and post its card in the thread."""
    assert deps.ledger is not None
    deps.ledger.add(request, lang=lang)
    extra = {"replaces": replaces} if replaces else {}
    deps.ledger.audit("requested", actor=request.requester, request=request, vm=item.vm.id, **extra)
    deps.metrics.actions_requested.labels(request.action).inc()
    blocks = card_blocks(request, lang=lang, editable=editable(request.action))
    reply = Reply(text=card_text(request, lang=lang), blocks=blocks)
    ts = post_one(deps, client, request.channel, request.thread_ts, reply, "card")
    if ts is not None:
        deps.ledger.set_card(request.id, ts)


def decide(deps: Deps, client: Any, raw: str, *, user: str, channel: str, approve: bool) -> None:
    """One click on Approve or Reject: refuse privately, or win the transition and go on."""
    assert deps.ledger is not None
    assert deps.approvers is not None
    request_id, presented = decision_value(raw)
    request = deps.ledger.get(request_id) if request_id else None
    if request is None:
        deps.ledger.audit("refused", actor=user, reason=Refusal.TAMPERED.value, value=raw[:200])
        lang = reader_lang(deps, client, user)
        post_private(deps, client, channel, user, refusal(Refusal.TAMPERED, lang))
        return
    now = deps.clock()
    check = check_approve if approve else check_reject
    is_approver = deps.approvers.is_approver(client, user)
    why = check(request, user=user, is_approver=is_approver, presented_hash=presented, now=now)
    to = Status.APPROVED if approve else Status.REJECTED
    if why is None and not deps.ledger.transition(
        request.id, Status.PENDING, to, decided_by=user, decided_at=now
    ):
        why = Refusal.ALREADY_DECIDED  # another click (or replica) won the race
    if why is not None:
        deps.ledger.audit("refused", actor=user, request=request, reason=why.value)
        said = refusal(why, reader_lang(deps, client, user))
        post_private(deps, client, request.channel, user, said, request.thread_ts)
        if why == Refusal.EXPIRED:
            expire(deps, client, request)
        return
    deps.ledger.audit("approved" if approve else "rejected", actor=user, request=request)
    if not approve:
        refresh_card(deps, client, request.id)
        return
    deps.metrics.actions_approved.labels(request.action).inc()
    refresh_card(deps, client, request.id)
    assert deps.background is not None
    deps.background.submit(request, lambda: execute(deps, client, request.id))


def expire(deps: Deps, client: Any, request: ApprovalRequest) -> bool:
    """Mark an overdue pending request expired and update its card; True if this call did."""
    assert deps.ledger is not None
    if not deps.ledger.transition(request.id, Status.PENDING, Status.EXPIRED):
        return False
    deps.ledger.audit("expired", actor=BOT, request=request)
    refresh_card(deps, client, request.id)
    return True


def expire_overdue(deps: Deps, client: Any) -> int:
    """Expire every pending request past its time (at start); returns how many."""
    if deps.ledger is None:
        return 0
    now = deps.clock()
    return sum(
        expire(deps, client, r) for r in deps.ledger.with_status(Status.PENDING) if r.expired(now)
    )


def decision_value(raw: str) -> tuple[str, str]:
    """(request id, plan hash) of a card button's value; empty strings when it is not one."""
    try:
        data = json.loads(raw)
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    rid, digest = data.get("id"), data.get("hash")
    if not isinstance(rid, str) or not isinstance(digest, str) or len(rid) > 64:
        return "", ""
    return rid, digest


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
