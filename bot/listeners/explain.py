"""Explain any message: the "Explain this error" message shortcut, and the configured reaction
(BACKUP_FIX_EXPLAIN_EMOJI). Both work wherever the bot can read, unasked answers on or off."""

from __future__ import annotations

import logging
from typing import Any, Final

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.blocks.actions import notice_reply
from bot.explain import REACTION_CLAIM, explain, fetch_message, post_note
from bot.listeners import Deps, guard
from bot.replies import failure_text
from bot.vm_choice import reader_lang
from knowledge.model import Lang

log = logging.getLogger(__name__)

ALREADY: Final[dict[Lang, str]] = {
    "en": "This message's thread already has my answer to it.",
    "zh-TW": "這則訊息的討論串中已經有我的解答。",
}


def handle_shortcut(deps: Deps, client: WebClient, body: dict[str, Any]) -> str:
    """Explain the message the shortcut was used on, for whoever used it."""
    user = str((body.get("user") or {}).get("id") or "")
    channel = str((body.get("channel") or {}).get("id") or "")
    message = body.get("message") or {}
    if not user or not channel or not isinstance(message, dict):
        return "empty"
    done = explain(deps, client, message, channel=channel, user=user, via="shortcut")
    if done == "already":
        said = notice_reply(ALREADY[reader_lang(deps, client, user)], "already")
        thread = str(message["thread_ts"]) if message.get("thread_ts") else None
        post_note(deps, client, channel, user, said, thread_ts=thread)
    return done


def handle_reaction(
    deps: Deps, client: WebClient, event: dict[str, Any], body: dict[str, Any]
) -> str:
    """Explain a message someone reacted to with the configured emoji, once per message."""
    wanted = deps.settings.explain_emoji
    item = event.get("item") or {}
    if wanted is None or event.get("reaction") != wanted or item.get("type") != "message":
        return "ignored"
    channel, ts, user = str(item.get("channel") or ""), str(item.get("ts") or ""), event.get("user")
    if not channel or not ts or not user:
        return "ignored"
    event_id = body.get("event_id")
    if event_id and not deps.store.claim_event(str(event_id)):
        return "retry"  # a Slack retry of an event already handled
    if not deps.store.claim_answer(channel, ts, REACTION_CLAIM):
        return "already"  # someone reacted before: explained once per message
    message = fetch_message(deps, client, channel, ts)
    if message is None:
        return "unreadable"
    return explain(deps, client, message, channel=channel, user=str(user), via="reaction")


def register(app: App, deps: Deps) -> None:
    """Listen to the message shortcut and to reaction_added."""

    def on_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()  # first: the shortcut's 3 seconds; matching and posting come after
        deps.metrics.events.labels("explain").inc()
        user = str((body.get("user") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")

        def notify(ref: str) -> None:
            said = notice_reply(failure_text(reader_lang(deps, client, user), ref), "failure")
            post_note(deps, client, channel, user, said, thread_ts=None)

        with guard(deps, "explain", log, notify if user and channel else None):
            handle_shortcut(deps, client, body)

    def on_reaction(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        deps.metrics.events.labels("reaction_added").inc()
        with guard(deps, "reaction", log):
            handle_reaction(deps, client, event, body)

    app.shortcut(ids.EXPLAIN)(on_shortcut)
    app.event("reaction_added")(on_reaction)
