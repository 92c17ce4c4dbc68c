"""Which VM a thread is about: from the paste, else the "Pick the VM" menu; then its latest job."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

from actions.base import Context
from actions.diagnostics.job_details import JobDetails
from actions.errors import ActionError
from actions.names import is_remediation
from actions.resolve import MAX_JOB_READS, skipped_jobs
from actions.resources import ProtectedVm
from bot.blocks.actions import chosen_reply, item_key, notice_reply, pick_vm_reply, report_reply
from bot.listeners import Deps
from bot.logging import new_ref
from bot.replies import choose_lang, failure_text, post_one, thread_root_text
from bot.sentences import sentence
from bot.threads import recall, remember
from knowledge.answer import compose
from knowledge.lang import detect_lang
from knowledge.matcher import Match, matcher_for
from knowledge.model import Lang

log = logging.getLogger(__name__)

PASTE = "paste"  # chosen_by of a VM named in the paste (not picked by a person)
_VM_IDS = re.compile(
    r"/subscriptions/[^/\s]+/resourceGroups/[^/\s]+/providers/Microsoft\.Compute/"
    r"virtualMachines/([^/\s\"',;)\]]+)",
    re.IGNORECASE,
)


def thread_of(body: dict[str, Any]) -> tuple[str, str | None]:
    """(channel, thread ts) of an interactive payload; no thread for an ephemeral message."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    if container.get("is_ephemeral") or not message:
        return channel, None  # an ephemeral message has no ts to thread under
    thread = message.get("thread_ts") or container.get("thread_ts") or message.get("ts")
    return channel, str(thread) if thread else None


def reader_lang(deps: Deps, client: Any, user: str | None) -> Lang:
    """The language of whoever clicked: their Slack locale (zh-* -> zh-TW), else English."""
    return choose_lang(deps, client, user, override=None, paste=None)


def current_item(deps: Deps, channel: str, thread_ts: str | None) -> ProtectedVm | None:
    """The thread's VM as the configured vaults list it now; None when none was chosen."""
    if thread_ts is None or deps.resolver is None:
        return None
    chosen = recall(deps.store, channel, thread_ts)
    if chosen is None:
        return None
    return next((i for i in deps.resolver.all_items() if chosen.is_item(i)), None)


def item_by_key(deps: Deps, key: str) -> ProtectedVm | None:
    """The configured vaults' item a menu option names; None for a tampered value."""
    if deps.resolver is None:
        return None
    return next((i for i in deps.resolver.all_items() if item_key(i) == key), None)


def fixes_for(deps: Deps, names: Sequence[str], item: ProtectedVm) -> list[str]:
    """The remediations among ``names`` that are enabled and apply to ``item`` (for buttons)."""
    if deps.guardrails is None:
        return []
    wanted = [n for n in dict.fromkeys(names) if is_remediation(n)]
    if not wanted:
        return []
    offered = deps.guardrails.offered(wanted, item, api=deps.azure, now=deps.clock())
    return [n for n in offered if is_remediation(n)]


def settle_item(
    deps: Deps,
    client: Any,
    channel: str,
    thread_ts: str | None,
    code: str | None,
    *,
    lang: Lang = "en",
) -> ProtectedVm | None:
    """The thread's VM: remembered, else named by the thread's first message; else the menu."""
    item = current_item(deps, channel, thread_ts)
    if item is not None or thread_ts is None or deps.resolver is None:
        if item is None:
            offer_menu(deps, client, channel, thread_ts, code, lang=lang)
        return item
    # A click can beat the lookup that follows the answer; the paste itself still names the VM.
    paste = thread_root_text(deps, client, channel, thread_ts)
    found = deps.resolver.resolve(paste) if paste else []
    if found:
        remember(deps.store, channel, thread_ts, found[0], PASTE)
        return found[0]
    offer_menu(deps, client, channel, thread_ts, code, paste=paste, lang=lang)
    return None


def offer_menu(
    deps: Deps,
    client: Any,
    channel: str,
    thread_ts: str | None,
    code: str | None,
    *,
    paste: str = "",
    lang: Lang = "en",
) -> None:
    """Post the "Pick the VM" menu, narrowed to the VMs whose latest failure fits ``code``; first
    say so when the paste names a VM that no configured vault protects."""
    assert deps.resolver is not None
    for name in _named_vms(paste):
        text = sentence("vm_not_allowed", lang, name=name)
        post_one(deps, client, channel, thread_ts, notice_reply(text, "not_allowed"), "refusal")
    items = deps.resolver.pick_list(matched_code=code or None, matcher=matcher_for(deps.kb))
    post_one(deps, client, channel, thread_ts, pick_vm_reply(items, code, lang=lang), "pick_vm")


def after_answer(
    deps: Deps,
    client: Any,
    channel: str,
    thread_ts: str,
    paste: str,
    matches: Sequence[Match],
    *,
    lang: Lang | None = None,
) -> None:
    """When an answer offers Azure actions, settle which VM the thread is about; ``lang`` is
    the answer's (without it, the paste's language, else English)."""
    if not deps.azure_ready or not deps.settings.acts_in(channel):
        return
    said = lang or detect_lang(paste) or "en"
    for m in matches:
        answer = compose(m.entry, deps.kb, "en", code=m.code)
        if set(answer.diagnostics + answer.remediations) & deps.actions:
            code = m.entry.code
            work = partial(introduce, deps, client, channel, thread_ts, paste, code, lang=said)
            # Azure reads never run on a listener thread: a slow vault must not hold the next
            # event. Without a background runner (tests of the listener alone), right here.
            if deps.background is None:
                work()
            elif not deps.background.try_run("introduce", work):
                busy(deps, client, channel, thread_ts, said)
            return


def introduce(
    deps: Deps,
    client: Any,
    channel: str,
    thread_ts: str,
    paste: str,
    code: str,
    *,
    lang: Lang = "en",
) -> None:
    """After an answer: the VM the paste names (and its latest job), else the menu."""
    earlier = recall(deps.store, channel, thread_ts)
    if not deps.azure_ready or (earlier is not None and earlier.chosen_by != PASTE):
        return  # somebody picked the VM by hand: a later paste does not override them
    if (
        earlier is not None
        and deps.ledger is not None
        and deps.ledger.in_thread(channel, thread_ts)
    ):
        return  # a change was requested for this VM: only its requester or an approver moves it
    try:
        assert deps.resolver is not None
        found = deps.resolver.resolve(paste)
        skipped = skipped_jobs(paste)
        if skipped:  # named, so nobody thinks they were looked at
            log.info("job ids past the read budget skipped", extra={"count": len(skipped)})
            shown = ", ".join(skipped[:10]) + (" …" if len(skipped) > 10 else "")
            text = sentence(
                "jobs_skipped", lang, count=str(len(skipped)), read=str(MAX_JOB_READS), jobs=shown
            )
            post_one(deps, client, channel, thread_ts, notice_reply(text, "skipped"), "notice")
        if found:
            choose(deps, client, channel, thread_ts, found[0], code, user=None, lang=lang)
        else:
            offer_menu(deps, client, channel, thread_ts, code, paste=paste, lang=lang)
    except ActionError:
        ref = new_ref()
        log.exception("could not find the VM", extra={"ref": ref})
        post_one(deps, client, channel, thread_ts, failure_reply(ref, lang=lang), "failure")


def choose(
    deps: Deps,
    client: Any,
    channel: str,
    thread_ts: str,
    item: ProtectedVm,
    code: str | None,
    *,
    user: str | None,
    lang: Lang = "en",
) -> None:
    """Remember ``item`` for the thread and post its latest job's error against ``code``."""
    remember(deps.store, channel, thread_ts, item, user or PASTE)
    post_one(deps, client, channel, thread_ts, chosen_reply(item, user, lang=lang), "vm")
    ctx = Context(item=item, api=deps.azure, now=deps.clock())
    report = JobDetails(matcher_for(deps.kb)).run(ctx, matched_code=code or None)
    deps.metrics.diagnostics.labels(report.action).inc()
    fixes = fixes_for(deps, report.suggestions, item)
    reply = report_reply(report, code, fixes, lang=lang)
    post_one(deps, client, channel, thread_ts, reply, "report")


def busy(deps: Deps, client: Any, channel: str, thread_ts: str | None, lang: Lang) -> None:
    """Say in the thread that the bot is too busy to take this now (the queue is full)."""
    deps.metrics.errors.labels("busy").inc()
    post_one(deps, client, channel, thread_ts, notice_reply(sentence("busy", lang), "busy"), "busy")


def _named_vms(paste: str) -> list[str]:
    return list(dict.fromkeys(m[1] for m in _VM_IDS.finditer(paste)))[:3]


def failure_reply(ref: str, said: str | None = None, *, lang: Lang = "en") -> Any:
    """The fixed failure sentence with its reference id (never the exception's text)."""
    text = sentence("failed_with_ref", lang, sentence=said, ref=ref) if said else None
    return notice_reply(text or failure_text(lang, ref), "failure")
