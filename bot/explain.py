"""Explain one message on request (the message shortcut or the configured reaction): the words of
the message, its attachments and its blocks, matched; the short answer in the message's thread,
or a note only the asker sees ("did you mean", what an unknown code's family tells, no match)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial
from typing import Any, Final

from slack_sdk import WebClient

from bot.blocks import UNASKED_ANSWERS, Reply, answer_replies, no_match_reply, suggestions_reply
from bot.listeners import Deps
from bot.replies import (
    analyse_paste,
    asked_replies,
    choose_lang,
    paste_hash,
    post_in_thread,
    slack_call,
)
from bot.unmatched import note_unmatched
from bot.vm_choice import after_answer

log = logging.getLogger(__name__)

MAX_EXPLAIN_CHARS: Final = 12_000  # the words read from one message (alerts repeat themselves)
ATTACHMENT_FIELDS: Final = ("pretext", "title", "text", "fallback", "footer")
REACTION_CLAIM: Final = "~reaction"  # the answered-threads row marking a message explained once


def message_text(message: dict[str, Any], *, limit: int = MAX_EXPLAIN_CHARS) -> str:
    """Every distinct piece of text a message shows (its text, its attachments' text, fallback
    and fields, its blocks' text), in order, one per line, at most ``limit`` characters."""
    seen: dict[str, None] = {}
    for piece in _pieces(message):
        piece = piece.strip()
        if piece and piece not in seen:
            seen[piece] = None
    return "\n".join(seen)[:limit]


def _pieces(message: dict[str, Any]) -> Iterator[str]:
    if isinstance(message.get("text"), str):
        yield message["text"]
    for att in _dicts(message.get("attachments")):
        for name in ATTACHMENT_FIELDS:
            if isinstance(att.get(name), str):
                yield att[name]
        for f in _dicts(att.get("fields")):
            yield " ".join(str(f.get(k) or "") for k in ("title", "value"))
        yield from _block_text(att.get("blocks"))
    yield from _block_text(message.get("blocks"))


def _block_text(value: Any) -> Iterator[str]:
    """The text of Block Kit blocks: section and context text, fields, rich text runs."""
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and v.get("type") in _RUNS for v in value):
            yield "".join(str(v.get("text") or v.get("url") or "") for v in value)  # one line
            return
        for v in value:
            yield from _block_text(v)
    elif isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                yield inner
            elif key in ("text", "fields", "elements", "accessory") or key.startswith("rich"):
                yield from _block_text(inner)


_RUNS = frozenset({"text", "link", "emoji", "user", "channel", "usergroup", "date", "broadcast"})


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def explain(
    deps: Deps, client: WebClient, message: dict[str, Any], *, channel: str, user: str, via: str
) -> str:
    """Answer ``message`` for ``user``: in its thread when it matches, else privately. Returns
    what happened: answered, already, suggestions, family, no_match or empty."""
    text = message_text(message)
    ts = str(message.get("ts") or "")
    thread_ts = str(message.get("thread_ts") or ts)
    if not text or not ts:
        return "empty"
    analysis = analyse_paste(deps, text)
    lang = choose_lang(deps, client, user, override=None, paste=analysis.lang)
    if analysis.unknown_codes or not analysis.matches:
        note_unmatched(deps, text, analysis, source=via, channel=channel)
    if analysis.matches:
        fresh = [
            m for m in analysis.matches if deps.store.claim_answer(channel, thread_ts, m.entry.code)
        ]
        if not fresh:
            return "already"  # the thread holds these answers already
        replies = answer_replies(
            fresh,
            deps.kb,
            lang,
            paste_hash=paste_hash(text),
            actions=deps.actions_in(channel),
            limit=UNASKED_ANSWERS,
        )
        if post_in_thread(deps, client, channel, thread_ts, replies, via):
            after_answer(deps, client, channel, thread_ts, text, fresh, lang=lang)
            return "answered"
        return "failed"
    family = asked_replies(deps, analysis, text, lang, channel=channel)
    if family:
        note, kind = family, "family"
    elif analysis.suggestions:
        note, kind = [suggestions_reply(analysis.suggestions, lang)], "suggestions"
    else:
        note, kind = [no_match_reply(lang)], "no_match"
    where = str(message["thread_ts"]) if message.get("thread_ts") else None
    for reply in note:
        post_note(deps, client, channel, user, reply, thread_ts=where)
    return kind


def post_note(
    deps: Deps, client: WebClient, channel: str, user: str, reply: Reply, *, thread_ts: str | None
) -> bool:
    """A reply (text and blocks) only ``user`` sees, in ``channel``; True when Slack took it."""
    post = partial(
        client.chat_postEphemeral,
        channel=channel,
        user=user,
        text=reply.text,
        blocks=reply.blocks,
        thread_ts=thread_ts,
    )
    if slack_call(deps, "chat.postEphemeral", post) is None:
        return False
    deps.metrics.replies.labels("private").inc()
    return True


def fetch_message(deps: Deps, client: WebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """The message at ``ts`` in ``channel``: from the channel's history, else (a thread reply)
    from its thread; None when Slack will not say."""
    history = slack_call(
        deps,
        "conversations.history",
        lambda: client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1),
    )
    for m in (history.get("messages") if history is not None else None) or []:
        if str(m.get("ts")) == ts:
            return dict(m)
    replies = slack_call(
        deps,
        "conversations.replies",
        lambda: client.conversations_replies(
            channel=channel, ts=ts, latest=ts, oldest=ts, inclusive=True, limit=2
        ),
    )
    for m in (replies.get("messages") if replies is not None else None) or []:
        if str(m.get("ts")) == ts:
            return dict(m)
    return None
