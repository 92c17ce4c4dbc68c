"""Running an approved request: approved -> running -> succeeded | failed, off Slack's threads.

Only the caller whose guarded transition won goes on; the outcome (Azure job id, portal link,
correlation id) is stored, audited, shown on the card and posted in the thread.

While it runs, the request holds a lease: this replica's id and a heartbeat renewed every
``Settings.heartbeat_every`` seconds. A lease older than ``Settings.lease``
(BACKUP_FIX_LEASE_SECONDS) means the runner died; a live replica then settles the request
(``bot.reconcile``) without calling Azure again.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import socket
import threading
from dataclasses import asdict
from types import TracebackType
from typing import Any

from actions.approvals import ApprovalRequest, Status, bound
from actions.base import Context
from actions.errors import ActionError, AzureError, NotAllowed
from actions.remediations import REMEDIATIONS
from actions.resources import Outcome, ProtectedVm, VaultRef
from bot.blocks.actions import card_blocks, card_text, notice_reply, outcome_reply, request_buttons
from bot.blocks.pack import Reply
from bot.home import refresh_homes
from bot.listeners import Deps
from bot.logging import new_ref
from bot.replies import post_one, update_message
from bot.sentences import error_sentence, sentence
from bot.vm_choice import failure_reply, fixes_for
from knowledge.model import Lang

log = logging.getLogger(__name__)

BOT = "backup-fix"  # the audit actor of what the bot does by itself
FOLLOW_UPS = {"remove_snapshot_extension": ("trigger_backup",)}


@functools.cache
def replica_id() -> str:
    """This process's name in leases: host, pid and a random part (pids repeat in containers)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """Renews the lease of a running request in a thread until the block ends."""

    def __init__(self, deps: Deps, request_id: str) -> None:
        self._deps, self._id = deps, request_id
        self._every = deps.settings.heartbeat_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{request_id}", daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(self._every * 2)

    def _beat(self) -> None:
        ledger = self._deps.ledger
        assert ledger is not None
        while not self._stop.wait(self._every):
            try:
                if not ledger.heartbeat(self._id, replica_id(), self._deps.clock()):
                    log.warning("lease lost", extra={"request": self._id})
                    return
            except Exception:  # the store may be back before the lease runs out: keep trying
                log.warning("could not renew the lease", extra={"request": self._id})


def request_lang(deps: Deps, request_id: str) -> Lang:
    """The requester's language, kept with the request; English for older requests."""
    assert deps.ledger is not None
    lang = deps.ledger.lang(request_id)
    return "zh-TW" if lang == "zh-TW" else "en"


def execute(deps: Deps, client: Any, request_id: str) -> None:
    """Run an approved request once (approved -> running -> succeeded | failed); background."""
    assert deps.ledger is not None
    if not deps.ledger.start_running(request_id, replica_id(), deps.clock()):
        return  # already running or done elsewhere
    request = deps.ledger.get(request_id)
    assert request is not None
    deps.ledger.audit("executing", actor=BOT, request=request, runner=replica_id())
    with Lease(deps, request.id):
        try:
            outcome = _run(deps, request)
        except Exception as exc:
            _failed(deps, client, request, exc)
            return
    status = Status.SUCCEEDED if outcome.ok else Status.FAILED
    if not deps.ledger.transition(request.id, Status.RUNNING, status, outcome=asdict(outcome)):
        # Our lease ran out (the store was unreachable for long) and another replica settled
        # the request; the truth is still worth recording and telling.
        log.warning("request settled elsewhere while it ran", extra={"request": request.id})
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
    refresh_homes(deps, client, request)  # it leaves the requester's open requests
    item = item_of(deps, request)
    lang = request_lang(deps, request.id)
    reply = outcome_reply(request, outcome, lang=lang)
    follow = [n for n in FOLLOW_UPS.get(request.action, ()) if item is not None and outcome.ok]
    if follow and item is not None:
        buttons = request_buttons(None, fixes_for(deps, follow, item), lang=lang)
        if buttons:
            reply.blocks.append({"type": "actions", "block_id": "follow", "elements": buttons})
    _post(deps, client, request, reply)
    if request.action == "trigger_backup" and outcome.ok and outcome.job_id and item is not None:
        _follow(deps, client, request, item.vault, outcome.job_id)


def refresh_card(deps: Deps, client: Any, request_id: str) -> None:
    """Redraw the approval card from the request's stored state."""
    assert deps.ledger is not None
    request = deps.ledger.get(request_id)
    if request is None or not request.card_ts:
        return
    lang = request_lang(deps, request.id)
    reply = Reply(
        text=card_text(request, lang=lang),
        blocks=card_blocks(request, now=deps.clock(), lang=lang),
    )
    update_message(deps, client, request.channel, request.card_ts, reply)


def item_of(deps: Deps, request: ApprovalRequest) -> ProtectedVm | None:
    """The protected VM a request is about, as the vaults list it now; None if gone."""
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
    assert deps.ledger is not None
    key = deps.ledger.key
    if key is None or not bound(request, key=key):
        # Edited in the database after the approval: run nothing rather than something else.
        raise NotAllowed("The stored request no longer matches the plan that was approved.")
    deps.guardrails.check_enabled(request.action)
    deps.resolver.forget()  # act on the item as it is now, not as it was cached
    item = item_of(deps, request)
    if item is None:
        raise NotAllowed("The VM is no longer protected by a configured vault.")
    deps.guardrails.check_item(item)
    remediation = REMEDIATIONS[request.action]
    params = remediation.params_model.model_validate(request.params.get("args") or {})
    # Recovery settles a run interrupted from here on only on what this records, never on a guess.
    deps.ledger.note(request.id, replica_id(), {"phase": "calling"})
    outcome = remediation.execute(params, Context(item=item, api=deps.azure, now=deps.clock()))
    deps.ledger.note(request.id, replica_id(), {**asdict(outcome), "phase": "returned"})
    return outcome


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
    refresh_homes(deps, client, request)
    lang = request_lang(deps, request.id)
    said = error_sentence(exc, lang) if isinstance(exc, ActionError) else None
    if corr:
        said = sentence(
            "with_correlation", lang, sentence=said or sentence("azure_failed", lang), corr=corr
        )
    _post(deps, client, request, failure_reply(ref, said, lang=lang))


def _post(deps: Deps, client: Any, request: ApprovalRequest, reply: Reply) -> None:
    thread = request.thread_ts or request.card_ts
    post_one(deps, client, request.channel, thread, reply, "outcome")


def _follow(deps: Deps, client: Any, request: ApprovalRequest, vault: VaultRef, job: str) -> None:
    assert deps.background is not None
    assert deps.ledger is not None
    ledger = deps.ledger
    lang = request_lang(deps, request.id)

    def done(status: str) -> None:
        ledger.audit("job_finished", actor=BOT, request=request, job_id=job, status=status)
        text = sentence("job_finished", lang, job=job, status=status)
        if status in ("", "InProgress", "timeout"):
            text = sentence("job_still_running", lang, job=job)
        _post(deps, client, request, notice_reply(text, "job"))

    deps.background.follow_job(deps.azure, vault, job, done)
