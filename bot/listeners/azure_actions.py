"""Diagnostic and request buttons, and the "Pick the VM" menu: anyone in an action channel may
click; once a change was requested in a thread, only its requesters and approvers pick its VM."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from actions.base import Context
from actions.diagnostics import DIAGNOSTICS
from actions.diagnostics.job_details import JobDetails
from bot import ids
from bot.blocks.actions import report_reply
from bot.listeners import Deps, guard
from bot.logging import new_ref
from bot.remediate import request_fix
from bot.replies import post_one, post_private
from bot.sentences import error_sentence, sentence
from bot.vm_choice import (
    busy,
    choose,
    failure_reply,
    fixes_for,
    item_by_key,
    reader_lang,
    settle_item,
    thread_of,
)
from knowledge.matcher import matcher_for
from knowledge.model import Lang

log = logging.getLogger(__name__)

DIAGNOSE = re.compile(r"^" + re.escape(ids.DIAGNOSE_PREFIX) + r"[a-z_]+$")
REQUEST = re.compile(r"^" + re.escape(ids.REQUEST_PREFIX) + r"[a-z_]+$")


def clicked(body: dict[str, Any]) -> tuple[str, str, str]:
    """(user, action name, matched code) of a diagnose or request button."""
    action = (body.get("actions") or [{}])[0]
    action_id = str(action.get("action_id") or "")
    name = action_id.rsplit(".", 1)[-1]
    try:
        data = json.loads(str(action.get("value") or "{}"))
    except ValueError:
        data = {}
    code = data.get("code") if isinstance(data, dict) else None
    user = str((body.get("user") or {}).get("id") or "")
    return user, name, code if isinstance(code, str) and len(code) <= 100 else ""


def run_diagnostic(
    deps: Deps,
    client: Any,
    name: str,
    code: str,
    channel: str,
    thread: str | None,
    *,
    lang: Lang = "en",
) -> None:
    """Run one diagnostic on the thread's VM and post its report in ``lang`` (background)."""
    item = settle_item(deps, client, channel, thread, code, lang=lang)
    if item is None:
        return
    try:
        ctx = Context(item=item, api=deps.azure, now=deps.clock())
        if name == JobDetails.name:
            report = JobDetails(matcher_for(deps.kb)).run(ctx, matched_code=code or None)
        else:
            report = DIAGNOSTICS[name].run(ctx)
        fixes = fixes_for(deps, report.suggestions, item)
    except Exception as exc:
        ref = new_ref()
        log.exception("diagnostic failed", extra={"ref": ref, "action": name})
        reply = failure_reply(ref, error_sentence(exc, lang), lang=lang)
        post_one(deps, client, channel, thread, reply, "failure")
        return
    deps.metrics.diagnostics.labels(name).inc()
    reply = report_reply(report, code, fixes, lang=lang)
    post_one(deps, client, channel, thread, reply, "report")


def register(app: App, deps: Deps) -> None:
    """Listen to diagnose and request buttons and the VM menu."""

    def usable(client: WebClient, body: dict[str, Any], name: str, known: Any) -> bool:
        user, channel = clicked(body)[0], thread_of(body)[0]
        if not deps.settings.acts_in(channel):
            said = sentence("not_action_channel", reader_lang(deps, client, user))
            post_private(deps, client, channel, user, said)
            return False
        if not deps.azure_ready:
            said = sentence("no_azure", reader_lang(deps, client, user))
            post_private(deps, client, channel, user, said)
            return False
        if name not in known:
            said = sentence("unknown_action", reader_lang(deps, client, user))
            post_private(deps, client, channel, user, said)
            return False
        return True

    def on_diagnose(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.metrics.events.labels("diagnose").inc()
        with guard(deps, "diagnose", log):
            user, name, code = clicked(body)
            if usable(client, body, name, DIAGNOSTICS):
                channel, thread = thread_of(body)
                assert deps.background is not None

                def work() -> None:
                    lang = reader_lang(deps, client, user)  # users.info: off the listener
                    run_diagnostic(deps, client, name, code, channel, thread, lang=lang)

                if not deps.background.try_run(name, work):
                    busy(deps, client, channel, thread, reader_lang(deps, client, user))

    def on_request(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.metrics.events.labels("request").inc()
        with guard(deps, "request", log, _notifier(deps, client, body)):
            user, name, code = clicked(body)
            if not usable(client, body, name, deps.actions):
                return
            channel, thread = thread_of(body)
            lang = reader_lang(deps, client, user)
            item = settle_item(deps, client, channel, thread, code, lang=lang)
            if item is None or thread is None:
                return
            request_fix(
                deps, client, item, name=name, user=user, channel=channel, thread=thread, lang=lang
            )

    def on_pick(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.metrics.events.labels("pick_vm").inc()
        with guard(deps, "pick_vm", log, _notifier(deps, client, body)):
            user = str((body.get("user") or {}).get("id") or "")
            channel, thread = thread_of(body)
            if not usable(client, body, "pick_vm", {"pick_vm"}):
                return
            action = (body.get("actions") or [{}])[0]
            raw = str((action.get("selected_option") or {}).get("value") or "")
            key, _, code = raw.partition("|")
            item = item_by_key(deps, key)
            if item is None or thread is None:
                said = sentence("unknown_action", reader_lang(deps, client, user))
                post_private(deps, client, channel, user, said)
                return
            assert deps.background is not None

            def work() -> None:
                lang = reader_lang(deps, client, user)
                if not may_pick(deps, client, channel, thread, user):
                    said = sentence("vm_change_refused", lang)
                    post_private(deps, client, channel, user, said, thread)
                    return
                choose(deps, client, channel, thread, item, code[:100], user=user, lang=lang)

            if not deps.background.try_run("pick_vm", work):
                busy(deps, client, channel, thread, reader_lang(deps, client, user))

    app.action(DIAGNOSE)(on_diagnose)
    app.action(REQUEST)(on_request)
    app.action(ids.PICK_VM)(on_pick)


def may_pick(deps: Deps, client: Any, channel: str, thread: str, user: str) -> bool:
    """True when ``user`` may set the thread's VM: anyone until a change was requested in the
    thread, then only its requesters and the approvers."""
    requests = deps.ledger.in_thread(channel, thread) if deps.ledger is not None else []
    if not requests or user in {r.requester for r in requests}:
        return True
    return deps.approvers is not None and deps.approvers.is_approver(client, user)


def _notifier(deps: Deps, client: WebClient, body: dict[str, Any]) -> Any:
    channel, thread = thread_of(body)
    user = clicked(body)[0]

    def notify(ref: str) -> None:
        reply = failure_reply(ref, lang=reader_lang(deps, client, user))
        post_one(deps, client, channel, thread, reply, "failure")

    return notify
