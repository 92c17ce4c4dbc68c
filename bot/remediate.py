"""Request, approve, reject and run a remediation: the approval gate over the ledger, on Slack.

Exactly once comes from the ledger's guarded transitions; this module only goes on when its
transition won. Execution never runs on a listener thread: it is handed to ``deps.background``.
``bot.reconcile`` settles requests whose replica died.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from actions.approvals import (
    ApprovalRequest,
    Click,
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
from bot.approvers import approver_mentions
from bot.blocks.actions import card_blocks, card_text
from bot.blocks.pack import Reply
from bot.execution import BOT, execute, refresh_card, request_lang
from bot.home import refresh_homes
from bot.listeners import Deps
from bot.replies import post_one, post_private
from bot.sentences import UNKNOWN_ACTION, not_allowed, refusal, sentence
from bot.vm_choice import reader_lang
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
    if deps.ledger.key is None:  # serve refuses to start so; only a hand-built app gets here
        post_private(deps, client, channel, user, sentence("not_signed", lang), thread)
        return None
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
    return new  # _open redrew the Home tabs, without the old one


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
    assert deps.ledger is not None
    assert deps.ledger.key is not None
    return new_request(
        action=name,
        params={"vault": item.vault.id, "vm": item.vm.id, "args": args},
        plan=plan,
        requester=user,
        channel=channel,
        thread_ts=thread,
        now=deps.clock(),
        key=deps.ledger.key,
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
    notify = notify_approvers(deps)
    blocks = card_blocks(request, lang=lang, editable=editable(request.action), notify=notify)
    reply = Reply(text=card_text(request, lang=lang, notify=notify), blocks=blocks)
    ts = post_one(deps, client, request.channel, request.thread_ts, reply, "card")
    if ts is not None:
        deps.ledger.set_card(request.id, ts)
    refresh_homes(deps, client, request)


def notify_approvers(deps: Deps) -> str:
    """The mentions a new card carries so Slack notifies the approvers ('' when turned off by
    BACKUP_FIX_NOTIFY_APPROVERS=false or nobody is configured)."""
    if not deps.settings.notify_approvers or deps.approvers is None:
        return ""
    return approver_mentions(deps.approvers.approvers)


def decide(
    deps: Deps,
    client: Any,
    raw: str,
    *,
    user: str,
    channel: str,
    message_ts: str,
    approve: bool,
    home: str | None = None,
    tell: Callable[[str], object] | None = None,
) -> None:
    """One click on Approve or Reject (on the message ``message_ts`` of ``channel``, or with
    ``home``, the button's tag, on the clicker's App Home tab): refuse privately (through
    ``tell`` when given), or win the transition and go on."""
    assert deps.ledger is not None
    assert deps.approvers is not None
    request_id, presented = decision_value(raw)
    request = deps.ledger.get(request_id) if request_id else None
    key = deps.ledger.key
    if request is None or key is None:
        deps.ledger.audit("refused", actor=user, reason=Refusal.TAMPERED.value, value=raw[:200])
        said = refusal(Refusal.TAMPERED, reader_lang(deps, client, user))
        if tell is not None:
            tell(said)
        else:
            post_private(deps, client, channel, user, said)
        return
    check = check_approve if approve else check_reject
    click = Click(presented, channel, message_ts, home)
    # Expiry, binding and card first: the approver lookup may wait minutes on Slack's limits.
    why = check(request, user=user, is_approver=True, click=click, now=deps.clock(), key=key)
    if why is None:
        is_approver = deps.approvers.is_approver(client, user)
        why = check(
            request, user=user, is_approver=is_approver, click=click, now=deps.clock(), key=key
        )
    to = Status.APPROVED if approve else Status.REJECTED
    now = deps.clock()
    if why is None and not deps.ledger.transition(
        request.id, Status.PENDING, to, live_at=now, decided_by=user, decided_at=now
    ):
        current = deps.ledger.get(request.id)
        late = current is not None and current.status == Status.PENDING and current.expired(now)
        # Ran out while deciding, or another click (or replica) won the race.
        why = Refusal.EXPIRED if late else Refusal.ALREADY_DECIDED
    if why is not None:
        deps.ledger.audit("refused", actor=user, request=request, reason=why.value)
        said = refusal(why, reader_lang(deps, client, user))
        if tell is not None:  # from the Home tab: told there
            tell(said)
            if why == Refusal.EXPIRED:
                expire(deps, client, request)
            return
        if why == Refusal.WRONG_CHANNEL:  # answer where the click came from, nothing elsewhere
            post_private(deps, client, channel, user, said)
            return
        post_private(deps, client, request.channel, user, said, request.thread_ts)
        if why == Refusal.EXPIRED:
            expire(deps, client, request)
        return
    deps.ledger.audit("approved" if approve else "rejected", actor=user, request=request)
    refresh_homes(deps, client, request)
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
    refresh_homes(deps, client, request)
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
