"""Request, approve, reject and run a remediation: the approval gate over the ledger, on Slack.

Exactly once comes from the ledger's guarded transitions; this module only goes on when its
transition won. Execution never runs on a listener thread: it is handed to ``deps.background``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
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
from actions.errors import ActionError, AzureError, NotAllowed
from actions.remediations import REMEDIATIONS
from actions.resources import Outcome, ProtectedVm, VaultRef
from bot.blocks.actions import card_blocks, card_text, notice_reply, outcome_reply, request_buttons
from bot.blocks.pack import Reply
from bot.listeners import Deps
from bot.logging import new_ref
from bot.replies import post_one, post_private, update_message
from bot.sentences import REFUSALS, UNKNOWN_ACTION, error_sentence
from bot.vm_choice import failure_reply, fixes_for

log = logging.getLogger(__name__)

BOT = "backup-fix"  # the audit actor of what the bot does by itself
FOLLOW_UPS = {"remove_snapshot_extension": ("trigger_backup",)}


def request_fix(
    deps: Deps, client: Any, item: ProtectedVm, *, name: str, user: str, channel: str, thread: str
) -> ApprovalRequest | None:
    """Plan ``name`` on ``item`` with default params and post its approval card; None if refused."""
    assert deps.ledger is not None
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
        post_private(deps, client, channel, user, str(exc), thread)
        return None
    target = {"vault": item.vault.id, "vm": item.vm.id}
    request = new_request(
        action=name,
        params={**target, "args": params.model_dump(mode="json")},
        plan=plan.text(),
        requester=user,
        channel=channel,
        thread_ts=thread,
        now=deps.clock(),
        ttl=deps.approval_ttl,
    )
    deps.ledger.add(request)
    deps.ledger.audit("requested", actor=user, request=request, vm=item.vm.id)
    deps.metrics.actions_requested.labels(name).inc()
    reply = Reply(text=card_text(request), blocks=card_blocks(request))
    ts = post_one(deps, client, channel, thread, reply, "card")
    if ts is not None:
        deps.ledger.set_card(request.id, ts)
    return request


def decide(deps: Deps, client: Any, raw: str, *, user: str, channel: str, approve: bool) -> None:
    """One click on Approve or Reject: refuse privately, or win the transition and go on."""
    assert deps.ledger is not None
    assert deps.approvers is not None
    request_id, presented = _decision_value(raw)
    request = deps.ledger.get(request_id) if request_id else None
    if request is None:
        deps.ledger.audit("refused", actor=user, reason=Refusal.TAMPERED.value, value=raw[:200])
        post_private(deps, client, channel, user, REFUSALS[Refusal.TAMPERED])
        return
    now = deps.clock()
    check = check_approve if approve else check_reject
    is_approver = deps.approvers.is_approver(client, user)
    refusal = check(request, user=user, is_approver=is_approver, presented_hash=presented, now=now)
    to = Status.APPROVED if approve else Status.REJECTED
    if refusal is None and not deps.ledger.transition(
        request.id, Status.PENDING, to, decided_by=user, decided_at=now
    ):
        refusal = Refusal.ALREADY_DECIDED  # another click (or replica) won the race
    if refusal is not None:
        deps.ledger.audit("refused", actor=user, request=request, reason=refusal.value)
        post_private(deps, client, request.channel, user, REFUSALS[refusal], request.thread_ts)
        if refusal == Refusal.EXPIRED:
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


def execute(deps: Deps, client: Any, request_id: str) -> None:
    """Run an approved request once (approved -> running -> succeeded | failed); background."""
    assert deps.ledger is not None
    if not deps.ledger.transition(request_id, Status.APPROVED, Status.RUNNING):
        return  # already running or done elsewhere
    request = deps.ledger.get(request_id)
    assert request is not None
    deps.ledger.audit("executing", actor=BOT, request=request)
    try:
        outcome = _run(deps, request)
    except Exception as exc:
        _failed(deps, client, request, exc)
        return
    status = Status.SUCCEEDED if outcome.ok else Status.FAILED
    deps.ledger.transition(request.id, Status.RUNNING, status, outcome=asdict(outcome))
    event = "succeeded" if outcome.ok else "failed"
    deps.ledger.audit(
        event,
        actor=BOT,
        request=request,
        correlation_id=outcome.correlation_id,
        job_id=outcome.job_id,
        operation_id=outcome.operation_id,
        portal_url=outcome.portal_url,
        summary=outcome.summary,
    )
    counter = deps.metrics.actions_executed if outcome.ok else deps.metrics.actions_failed
    counter.labels(request.action).inc()
    refresh_card(deps, client, request.id)
    item = _item(deps, request)
    reply = outcome_reply(request, outcome)
    follow = [n for n in FOLLOW_UPS.get(request.action, ()) if item is not None and outcome.ok]
    if follow and item is not None:
        buttons = request_buttons(None, fixes_for(deps, follow, item))
        if buttons:
            reply.blocks.append({"type": "actions", "block_id": "follow", "elements": buttons})
    _post(deps, client, request, reply)
    if request.action == "trigger_backup" and outcome.ok and outcome.job_id and item is not None:
        _follow(deps, client, request, item.vault, outcome.job_id)


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


def refresh_card(deps: Deps, client: Any, request_id: str) -> None:
    """Redraw the approval card from the request's stored state."""
    assert deps.ledger is not None
    request = deps.ledger.get(request_id)
    if request is None or not request.card_ts:
        return
    reply = Reply(text=card_text(request), blocks=card_blocks(request, now=deps.clock()))
    update_message(deps, client, request.channel, request.card_ts, reply)


def _decision_value(raw: str) -> tuple[str, str]:
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


def _item(deps: Deps, request: ApprovalRequest) -> ProtectedVm | None:
    if deps.resolver is None:
        return None
    vault, vm = str(request.params.get("vault", "")), str(request.params.get("vm", ""))
    try:
        ref = VaultRef.parse(vault)
    except ValueError:
        return None
    for item in deps.resolver.items(ref):
        if item.vm.id.casefold() == vm.casefold():
            return item
    return None


def _run(deps: Deps, request: ApprovalRequest) -> Outcome:
    assert deps.guardrails is not None
    assert deps.resolver is not None
    deps.guardrails.check_enabled(request.action)
    deps.resolver.forget()  # act on the item as it is now, not as it was cached
    item = _item(deps, request)
    if item is None:
        raise NotAllowed("The VM is no longer protected by a configured vault.")
    deps.guardrails.check_item(item)
    remediation = REMEDIATIONS[request.action]
    params = remediation.params_model.model_validate(request.params.get("args") or {})
    return remediation.execute(params, Context(item=item, api=deps.azure, now=deps.clock()))


def _failed(deps: Deps, client: Any, request: ApprovalRequest, exc: Exception) -> None:
    assert deps.ledger is not None
    ref = new_ref()
    log.exception("remediation failed", extra={"ref": ref, "request": request.id})
    azure = exc if isinstance(exc, AzureError) else None
    corr = azure.correlation_id if azure is not None else None
    fields = {
        "error": type(exc).__name__,
        "status": azure.status if azure is not None else None,
        "code": azure.code if azure is not None else None,
        "ref": ref,
    }
    deps.ledger.transition(
        request.id, Status.RUNNING, Status.FAILED, outcome={**fields, "correlation_id": corr}
    )
    deps.ledger.audit("failed", actor=BOT, request=request, correlation_id=corr, **fields)
    deps.metrics.actions_failed.labels(request.action).inc()
    refresh_card(deps, client, request.id)
    sentence = error_sentence(exc) if isinstance(exc, ActionError) else None
    if corr:
        sentence = f"{sentence or 'The Azure call failed.'} Correlation id: {corr}."
    _post(deps, client, request, failure_reply(ref, sentence))


def _post(deps: Deps, client: Any, request: ApprovalRequest, reply: Reply) -> None:
    thread = request.thread_ts or request.card_ts
    post_one(deps, client, request.channel, thread, reply, "outcome")


def _follow(deps: Deps, client: Any, request: ApprovalRequest, vault: VaultRef, job: str) -> None:
    assert deps.background is not None
    assert deps.ledger is not None
    ledger = deps.ledger

    def done(status: str) -> None:
        ledger.audit("job_finished", actor=BOT, request=request, job_id=job, status=status)
        text = f"Backup job {job} finished: {status}."
        if status in ("", "InProgress", "timeout"):
            text = f"Backup job {job} is still running; I stopped watching it. Check the portal."
        _post(deps, client, request, notice_reply(text, "job"))

    deps.background.follow_job(deps.azure, vault, job, done)
