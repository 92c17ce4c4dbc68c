"""The buttons of an answer: "Share in channel", "did you mean" (open an entry) and feedback."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import ids
from bot.blocks import Reply, entry_replies
from bot.listeners import Deps, guard
from bot.replies import (
    REFUSED,
    THANKS,
    failure_text,
    paste_hash,
    post_in_thread,
    respond_all,
)
from knowledge.model import Entry, Lang

log = logging.getLogger(__name__)

_HASH = re.compile(r"^[0-9a-f]{8,256}$")


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _json(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def share_entries(deps: Deps, raw: str) -> tuple[list[Entry], Lang] | None:
    """The entries and language a Share button names; None when the value was tampered with."""
    data = _json(raw)
    codes, lang = data.get("codes"), data.get("lang")
    if lang not in ("en", "zh-TW") or not isinstance(codes, list) or not codes or len(codes) > 10:
        return None
    entries = [deps.kb.get(c) if isinstance(c, str) else None for c in codes]
    if any(e is None for e in entries):
        return None
    return [e for e in entries if e is not None], lang


def share_replies(deps: Deps, entries: list[Entry], lang: Lang, channel: str) -> list[Reply]:
    """The answers to post in ``channel`` (no Share button this time)."""
    digest = paste_hash(",".join(e.code for e in entries))
    actions = deps.actions_in(channel)
    return [
        r
        for e in entries
        for r in entry_replies(e, deps.kb, lang, paste_hash=digest, actions=actions)
    ]


def feedback_vote(deps: Deps, raw: str) -> tuple[str, str] | None:
    """(code, paste hash) of a feedback button; None when the value was tampered with."""
    data = _json(raw)
    code, digest = data.get("code"), data.get("hash")
    if not isinstance(code, str) or not isinstance(digest, str) or not _HASH.match(digest):
        return None
    entry = deps.kb.get(code)
    return (entry.code, digest) if entry is not None else None


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _channel(body: dict[str, Any]) -> str:
    return str(
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or ""
    )


def register(app: App, deps: Deps) -> None:
    """Listen to the Share, open-entry and feedback buttons."""

    def lang_of(client: WebClient, body: dict[str, Any]) -> Lang:
        return deps.locale.lang(client, _user(body)) or "en"

    def notifier(respond: Respond, client: WebClient, body: dict[str, Any]) -> Any:
        return lambda ref: respond(
            text=failure_text(lang_of(client, body), ref), replace_original=False
        )

    def on_share(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        deps.metrics.events.labels("share").inc()
        with guard(deps, "share", log, notifier(respond, client, body)):
            found = share_entries(deps, _value(body))
            if found is None:
                lang = lang_of(client, body)
                respond(text=REFUSED[lang], response_type="ephemeral", replace_original=False)
                return
            channel = _channel(body)
            replies = share_replies(deps, *found, channel)
            posted = post_in_thread(deps, client, channel, None, replies, "share")
            if posted == 0:  # e.g. not_in_channel: the response_url can still post there
                respond_all(deps, respond, replies, "share", response_type="in_channel")

    def on_open(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        deps.metrics.events.labels("open").inc()
        with guard(deps, "open", log, notifier(respond, client, body)):
            lang = lang_of(client, body)
            entry = deps.kb.get(_value(body))
            if entry is None:
                respond(text=REFUSED[lang], response_type="ephemeral", replace_original=False)
                return
            replies = entry_replies(
                entry,
                deps.kb,
                lang,
                paste_hash=paste_hash(entry.code),
                actions=deps.actions_in(_channel(body)),
                share=True,
            )
            respond_all(deps, respond, replies, "open")

    def on_feedback(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        deps.metrics.events.labels("feedback").inc()
        with guard(deps, "feedback", log, notifier(respond, client, body)):
            action_id = (body.get("actions") or [{}])[0].get("action_id")
            helpful = action_id == ids.FEEDBACK_HELPED
            vote = feedback_vote(deps, _value(body))
            lang = lang_of(client, body)
            if vote is None:
                respond(text=REFUSED[lang], response_type="ephemeral", replace_original=False)
                return
            counted = deps.store.record_feedback(
                code=vote[0], paste_hash=vote[1], user=_user(body), helpful=helpful
            )
            if counted:  # a second click by the same user on the same answer changes nothing
                deps.metrics.feedback.labels(vote[0], str(helpful).lower()).inc()
            respond(text=THANKS[lang], response_type="ephemeral", replace_original=False)

    app.action(ids.SHARE)(on_share)
    app.action(ids.OPEN_ENTRY)(on_open)
    app.action(ids.FEEDBACK_HELPED)(on_feedback)
    app.action(ids.FEEDBACK_NOT_HELPED)(on_feedback)
