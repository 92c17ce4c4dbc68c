"""The approval card's "Change parameters": open the modal, check a submission, supersede.

Only the requester may change a pending request. The modal opens right after ``ack()``, within
the trigger's 3 seconds, so the Azure reads that list the choices get a time budget; when they
fail or are slow, the modal falls back to plain text inputs. A submission that does not validate
or whose plan is blocked stays open with per-block errors; one that does replaces the request.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient

from actions.approvals import ApprovalRequest, Click, Refusal, check_reject
from actions.base import Context
from actions.diagnostics.locks import cleanup_locks
from actions.diagnostics.restore_points import vm_collections
from actions.diagnostics.vm_agent_status import failed_snapshot_extensions
from actions.errors import ActionError, NotAllowed
from actions.remediations import REMEDIATIONS
from actions.resolve import JOB_LOOKBACK, describe, same_entity
from actions.resources import ProtectedVm
from bot import ids
from bot.blocks.params_modal import Choice, Form, form_for, params_view, posted_form, submitted
from bot.execution import item_of
from bot.listeners import Deps, guard
from bot.remediate import decision_value, editable, expire, supersede
from bot.replies import failure_text, post_private, slack_call
from bot.sentences import error_sentence, refusal, sentence
from bot.vm_choice import reader_lang, thread_of
from knowledge.model import Lang

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_BUDGET = 1.5  # seconds of Azure reads before views.open; a trigger_id lasts 3
GONE = "The VM is no longer protected by a configured vault."
# The fields a menu of the VM's own resources sets together, per remediation.
MENUS: dict[str, tuple[str, ...]] = {
    "remove_rg_lock": ("resource_group", "lock_name"),
    "delete_restore_point_collection": ("resource_group", "collection_name"),
    "cancel_job": ("job_name",),
    "remove_snapshot_extension": ("extension_name",),
}


@dataclass(frozen=True, slots=True)
class Ready:
    """A submission that passed: the request it replaces and the new parameters and plan."""

    request: ApprovalRequest
    item: ProtectedVm
    args: dict[str, Any]
    plan: str


def read_choices(action: str, ctx: Context) -> list[Choice]:
    """The VM's resources ``action`` may act on, read the way its plan reads them."""
    api, item = ctx.api, ctx.item
    if action == "remove_rg_lock":
        return [
            Choice(
                {"resource_group": k.resource_group, "lock_name": k.name},
                "opt_lock",
                {"name": k.name, "level": k.level, "group": k.resource_group},
            )
            for k in cleanup_locks(api, item.vm)
        ]
    if action == "delete_restore_point_collection":
        return [
            Choice(
                {"resource_group": c.resource_group, "collection_name": c.name},
                "opt_collection",
                {"name": c.name, "group": c.resource_group, "points": str(c.restore_points)},
            )
            for c in vm_collections(api, item.vm)
        ]
    if action == "cancel_job":
        running = api.list_jobs(item.vault, since=ctx.now - JOB_LOOKBACK, status="InProgress")
        return [
            Choice(
                {"job_name": j.name},
                "opt_job",
                {"operation": j.operation, "name": j.name, "started": _when(j.start_time)},
            )
            for j in running
            if same_entity(j, item)
        ]
    if action == "remove_snapshot_extension":
        failed = failed_snapshot_extensions(api.get_vm_status(item.vm))
        return [
            Choice({"extension_name": e.name}, "opt_extension", {"name": e.name, "state": e.state})
            for e in failed
        ]
    return []


def open_editor(
    deps: Deps, client: Any, raw: str, *, user: str, trigger_id: str, channel: str
) -> None:
    """A click on "Change parameters": refuse privately, or open the modal."""
    assert deps.ledger is not None
    request_id, presented = decision_value(raw)
    request = deps.ledger.get(request_id) if request_id else None
    lang = reader_lang(deps, client, user)
    if request is None:
        deps.ledger.audit("refused", actor=user, reason=Refusal.TAMPERED.value, value=raw[:200])
        post_private(deps, client, channel, user, refusal(Refusal.TAMPERED, lang))
        return
    if not _may_edit(deps, client, request, user, presented, lang):
        return
    current = dict(request.params.get("args") or {})
    form, target = _form(deps, request, current)
    view = params_view(request, form, current, target=target, lang=lang)
    slack_call(deps, "views.open", partial(client.views_open, trigger_id=trigger_id, view=view))


def review(
    deps: Deps, client: Any, view: dict[str, Any], user: str
) -> tuple[dict[str, str], Ready | None]:
    """A submitted modal: (errors per block, or what to supersede with); neither when refused."""
    assert deps.ledger is not None
    assert deps.guardrails is not None
    request_id, presented = decision_value(str(view.get("private_metadata") or ""))
    request = deps.ledger.get(request_id) if request_id else None
    if request is None:
        deps.ledger.audit("refused", actor=user, reason=Refusal.TAMPERED.value)
        return {}, None
    lang = reader_lang(deps, client, user)
    if not _may_edit(deps, client, request, user, presented, lang):
        return {}, None
    remediation = REMEDIATIONS[request.action]
    values = (view.get("state") or {}).get("values") or {}
    form = posted_form(
        request.action, remediation.params_model, menu=MENUS.get(request.action, ()), values=values
    )
    params, wrong = submitted(form, values)
    errors = {b: _wrong(form, b, lang) for b in wrong}
    if errors:
        return errors, None
    try:
        checked = remediation.params_model.model_validate(params)
    except ValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else ""
            block = form.block_of(name) if name in form.fields else form.blocks[0]
            errors.setdefault(block, _wrong(form, block, lang))
        return errors, None
    args = checked.model_dump(mode="json")
    if args == dict(request.params.get("args") or {}):
        return {}, None  # nothing changed: the pending request stands as it is
    try:
        item = item_of(deps, request)
        if item is None:
            raise NotAllowed(GONE)
        deps.guardrails.check_enabled(request.action)
        deps.guardrails.check_item(item)
        plan = remediation.plan(checked, Context(item=item, api=deps.azure, now=deps.clock()))
        if plan.blocked:
            raise NotAllowed(plan.blocked)
    except ActionError as exc:
        return {form.blocks[0]: error_sentence(exc, lang)}, None
    return {}, Ready(request, item, args, plan.text())


def register(app: App, deps: Deps) -> None:
    """Listen to "Change parameters" and to its modal's submissions."""

    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()  # first; views.open follows at once, within the trigger's 3 seconds
        deps.metrics.events.labels("edit_params").inc()
        user = str((body.get("user") or {}).get("id") or "")
        channel, thread = thread_of(body)

        def notify(ref: str) -> None:
            lang = reader_lang(deps, client, user)
            post_private(deps, client, channel, user, failure_text(lang, ref), thread)

        with guard(deps, "edit_params", log, notify):
            if not deps.settings.acts_in(channel):
                said = sentence("not_action_channel", reader_lang(deps, client, user))
                post_private(deps, client, channel, user, said)
                return
            if not deps.azure_ready:
                said = sentence("no_azure", reader_lang(deps, client, user))
                post_private(deps, client, channel, user, said)
                return
            action = (body.get("actions") or [{}])[0]
            raw, trigger = str(action.get("value") or ""), str(body.get("trigger_id") or "")
            open_editor(deps, client, raw, user=user, trigger_id=trigger, channel=channel)

    def on_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        # The answer depends on the check (errors keep the modal open), so ack() comes after it.
        deps.metrics.events.labels("params_modal").inc()
        user = str((body.get("user") or {}).get("id") or "")
        errors: dict[str, str] = {}
        ready: Ready | None = None
        with guard(deps, "params_modal", log):
            if deps.azure_ready:
                errors, ready = review(deps, client, dict(body.get("view") or {}), user)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        if ready is not None:
            with guard(deps, "params_modal", log, _notifier(deps, client, ready.request, user)):
                supersede(
                    deps,
                    client,
                    ready.request,
                    ready.item,
                    args=ready.args,
                    plan=ready.plan,
                    user=user,
                )

    app.action(ids.EDIT_PARAMS)(on_edit)
    app.view(ids.PARAMS_MODAL)(on_submit)


def _may_edit(
    deps: Deps, client: Any, request: ApprovalRequest, user: str, presented: str, lang: Lang
) -> bool:
    """Refuse privately (and audit) a forged, decided or late card, or someone else's request."""
    assert deps.ledger is not None
    # The gate's refusals for a forged, decided or late card: as the requester, Reject is
    # refused for nothing else.
    now, key = deps.clock(), deps.ledger.key
    # The modal names no message: the card's own channel and ts stand in for the click's.
    click = Click(presented, request.channel, request.card_ts or "")
    why = (
        check_reject(
            request, user=request.requester, is_approver=False, click=click, now=now, key=key
        )
        if key is not None
        else Refusal.TAMPERED
    )
    said, reason = (refusal(why, lang), why.value) if why is not None else ("", "")
    if why is None and user != request.requester:
        said, reason = sentence("not_your_request", lang), "not_requester"
    elif why is None and not editable(request.action):
        said, reason = sentence("cannot_edit", lang), "not_editable"
    if not reason:
        return True
    deps.ledger.audit("refused", actor=user, request=request, reason=reason)
    post_private(deps, client, request.channel, user, said, request.thread_ts)
    if why == Refusal.EXPIRED:
        expire(deps, client, request)
    return False


def _form(deps: Deps, request: ApprovalRequest, current: dict[str, Any]) -> tuple[Form, str]:
    """The form and the target line, with the menu when the reads finish within the budget."""
    model = REMEDIATIONS[request.action].params_model
    menu = MENUS.get(request.action, ())

    def read() -> tuple[ProtectedVm | None, list[Choice]]:
        item = item_of(deps, request)
        if item is None or not menu:
            return item, []
        return item, read_choices(request.action, Context(item, deps.azure, deps.clock()))

    item, choices = _within(READ_BUDGET, read) or (None, [])
    target = describe(item) if item is not None else str(request.params.get("vm") or "?")
    return form_for(request.action, model, menu=menu, choices=choices, current=current), target


def _within(seconds: float, work: Callable[[], T]) -> T | None:
    """``work()``'s result if it is ready within ``seconds``; None if it failed or is late."""
    box: list[T] = []
    ctx = contextvars.copy_context()  # its log lines keep the click's request id

    def run() -> None:
        try:
            box.append(ctx.run(work))
        except Exception:
            log.warning("could not read the choices for the modal", exc_info=True)

    thread = threading.Thread(target=run, name="params-choices", daemon=True)
    thread.start()
    thread.join(seconds)
    return box[0] if box else None


def _wrong(form: Form, block: str, lang: Lang) -> str:
    return sentence("param_date" if block in form.dates else "param_invalid", lang)


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "?"


def _notifier(deps: Deps, client: Any, request: ApprovalRequest, user: str) -> Any:
    def notify(ref: str) -> None:
        said = failure_text(reader_lang(deps, client, user), ref)
        post_private(deps, client, request.channel, user, said, request.thread_ts)

    return notify
