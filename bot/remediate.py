"""Request, approve, reject and run a remediation: the approval gate over the ledger, on Slack.

Exactly once comes from the ledger's guarded transitions; this module only goes on when its
transition won. Execution never runs on a listener thread: it is handed to ``deps.background``.
"""

from __future__ import annotations

import json
import logging
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
from actions.resources import ProtectedVm
from bot.blocks.actions import card_blocks, card_text
from bot.blocks.pack import Reply
from bot.execution import BOT, execute, refresh_card
from bot.listeners import Deps
from bot.replies import post_one, post_private
from bot.sentences import REFUSALS, UNKNOWN_ACTION

log = logging.getLogger(__name__)


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
