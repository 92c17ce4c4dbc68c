"""``@backup-fix text`` answers in a thread; a bare mention in a thread matches the parent."""

from __future__ import annotations

import logging
import re
from typing import Any, NamedTuple

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.blocks import Reply, help_reply, no_match_reply, suggestions_reply
from bot.listeners import Deps, guard
from bot.replies import (
    analyse_paste,
    asked_replies,
    choose_lang,
    failure_text,
    post_in_thread,
    thread_root_text,
)
from bot.unmatched import note_unmatched
from bot.vm_choice import after_answer
from knowledge.matcher import Match
from knowledge.model import Lang

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def strip_mentions(text: str) -> str:
    """``text`` without any ``<@U…>`` mention."""
    return _MENTION.sub(" ", text).strip()


def thread_parent_text(deps: Deps, client: WebClient, channel: str, thread_ts: str) -> str:
    """The text of a thread's parent message, mentions removed ('' when Slack will not say)."""
    return strip_mentions(thread_root_text(deps, client, channel, thread_ts))


class _Answer(NamedTuple):
    replies: list[Reply]
    kind: str
    text: str
    matches: list[Match]
    lang: Lang


def _mention(deps: Deps, client: WebClient, event: dict[str, Any]) -> _Answer:
    text = strip_mentions(str(event.get("text") or ""))
    thread_ts = event.get("thread_ts")
    if not text and thread_ts and thread_ts != event.get("ts"):
        text = thread_parent_text(deps, client, str(event["channel"]), str(thread_ts))
    user = event.get("user")
    if not text:
        lang = choose_lang(deps, client, user, override=None, paste=None)
        return _Answer([help_reply(lang)], "help", "", [], lang)
    analysis = analyse_paste(deps, text)
    lang = choose_lang(deps, client, user, override=None, paste=analysis.lang)
    channel = str(event.get("channel") or "")
    if analysis.unknown_codes or not analysis.matches:
        note_unmatched(deps, text, analysis, source="mention", channel=channel)
    replies = asked_replies(deps, analysis, text, lang, channel=channel)
    if replies:
        return _Answer(replies, "mention", text, list(analysis.matches), lang)
    if analysis.suggestions:
        return _Answer(
            [suggestions_reply(analysis.suggestions, lang)], "suggestions", text, [], lang
        )
    return _Answer([no_match_reply(lang)], "no_match", text, [], lang)


def handle_mention(
    deps: Deps, event: dict[str, Any], body: dict[str, Any], client: WebClient
) -> int:
    """Answer one mention in its thread (once per Slack event id); returns replies posted."""
    if event.get("bot_id") or event.get("subtype"):
        return 0
    event_id = body.get("event_id")
    if event_id and not deps.store.claim_event(str(event_id)):
        return 0
    channel = str(event["channel"])
    thread_ts = str(event.get("thread_ts") or event["ts"])
    found = _mention(deps, client, event)
    sent = post_in_thread(deps, client, channel, thread_ts, found.replies, found.kind)
    if sent and found.matches:
        after_answer(deps, client, channel, thread_ts, found.text, found.matches, lang=found.lang)
    return sent


def register(app: App, deps: Deps) -> None:
    """Listen to app_mention events."""

    def on_mention(
        event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        deps.metrics.events.labels("app_mention").inc()
        channel = str(event.get("channel") or "")
        thread = str(event.get("thread_ts") or event.get("ts") or "")

        def notify(ref: str) -> None:
            lang = deps.locale.lang(client, event.get("user")) or "en"
            client.chat_postMessage(channel=channel, thread_ts=thread, text=failure_text(lang, ref))

        with guard(deps, "app_mention", log, notify if channel and thread else None):
            handle_mention(deps, event, body, client)

    app.event("app_mention")(on_mention)
