"""Pasted errors in channels: one threaded answer when the match is confident, else silence."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.blocks import UNASKED_ANSWERS, answer_replies
from bot.listeners import Deps, guard
from bot.replies import analyse_paste, choose_lang, paste_hash, post_in_thread
from bot.unmatched import note_unmatched
from bot.vm_choice import after_answer

log = logging.getLogger(__name__)

CHANNEL_TYPES = frozenset({"channel", "group"})


def is_paste_candidate(event: dict[str, Any], bot_user_id: str | None, deps: Deps) -> bool:
    """A plain human message in an allowed channel that does not address the bot."""
    if event.get("subtype") or event.get("bot_id") or event.get("bot_profile"):
        return False  # edits, deletions, joins, bots (this one included)
    user = event.get("user")
    text = event.get("text")
    if not user or user == bot_user_id or not isinstance(text, str) or not text.strip():
        return False
    if event.get("channel_type", "channel") not in CHANNEL_TYPES:
        return False
    if bot_user_id and f"<@{bot_user_id}>" in text:
        return False  # the app_mention listener answers those
    return deps.settings.answers_in(str(event.get("channel", "")))


def handle_message(
    deps: Deps,
    event: dict[str, Any],
    body: dict[str, Any],
    client: WebClient,
    bot_user_id: str | None,
) -> int:
    """Answer a confident paste once per thread and code; returns the replies posted."""
    if not is_paste_candidate(event, bot_user_id, deps):
        return 0
    text = str(event["text"])
    analysis = analyse_paste(deps, text)
    if not analysis.matches and not analysis.suggestions and not analysis.unknown_codes:
        return 0  # chatter: nothing to answer, nothing to learn from
    event_id = body.get("event_id")
    if event_id and not deps.store.claim_event(str(event_id)):
        return 0  # a Slack retry of an event already handled (here or on another replica)
    channel = str(event["channel"])
    # Close to an error we know but not enough to answer unasked, or a code we do not know:
    # recorded for `kb report`, and silence (the families answer only when asked).
    if analysis.unknown_codes or not analysis.matches:
        note_unmatched(deps, text, analysis, source="channel", channel=channel)
    if not analysis.matches:
        return 0
    thread_ts = str(event.get("thread_ts") or event["ts"])
    fresh = [
        m for m in analysis.matches if deps.store.claim_answer(channel, thread_ts, m.entry.code)
    ]
    if not fresh:
        return 0
    lang = choose_lang(deps, client, event.get("user"), override=None, paste=analysis.lang)
    replies = answer_replies(
        fresh,
        deps.kb,
        lang,
        paste_hash=paste_hash(text),
        actions=deps.actions_in(channel),
        limit=UNASKED_ANSWERS,  # nobody asked: the rest wait behind "Show N more"
    )
    sent = post_in_thread(deps, client, channel, thread_ts, replies, "paste")
    if sent:
        after_answer(deps, client, channel, thread_ts, text, fresh, lang=lang)
    return sent


def register(app: App, deps: Deps) -> None:
    """Listen to message events (channels and private channels)."""

    def on_message(
        event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        deps.metrics.events.labels("message").inc()
        with guard(deps, "message", log):
            handle_message(deps, event, body, client, context.bot_user_id)

    app.event("message")(on_message)
