"""Glue between a paste and Slack: analyse, pick the language, build and post the replies."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks import Reply, answer_replies
from bot.blocks.text import escape
from bot.listeners import Deps
from bot.logging import new_ref
from bot.observe import counted
from knowledge.families import family_answers
from knowledge.matcher import Analysis, analyse
from knowledge.model import Lang

log = logging.getLogger(__name__)

FAILED: dict[Lang, str] = {
    "en": "Sorry, something went wrong on my side. Reference: {ref}",
    "zh-TW": "抱歉，我這邊發生錯誤。參考編號：{ref}",
}
REFUSED: dict[Lang, str] = {
    "en": "Sorry, I can't do that: this button names an answer that is not in my knowledge base.",
    "zh-TW": "抱歉，無法執行：這個按鈕指向的答案不在我的知識庫中。",
}
THANKS: dict[Lang, str] = {
    "en": "Thanks for the feedback.",
    "zh-TW": "感謝您的回饋。",
}


def paste_hash(text: str) -> str:
    """The sha256 hex digest stored with feedback instead of the paste itself."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def analyse_paste(deps: Deps, text: str) -> Analysis:
    """Matches, suggestions and language of ``text``, counted in the metrics."""
    found = analyse(text, kb=deps.kb)
    for m in found.matches:
        deps.metrics.matches.labels(m.entry.code).inc()
    return found


def asked_replies(
    deps: Deps, analysis: Analysis, text: str, lang: Lang, *, channel: str, share: bool = False
) -> list[Reply]:
    """The reply to a paste someone asked about: known errors first, then what the families of
    its unknown codes tell; [] when there is neither. Unasked pastes never get the families.
    """
    families = family_answers(analysis.unknown_codes, text)
    if not analysis.matches and not families:
        return []
    return answer_replies(
        analysis.matches,
        deps.kb,
        lang,
        paste_hash=paste_hash(text),
        actions=deps.actions_in(channel),
        share=share,
        families=families,
    )


def choose_lang(
    deps: Deps, client: WebClient, user: str | None, *, override: Lang | None, paste: str | None
) -> Lang:
    """``--lang`` first, then the paste's language, then the user's Slack locale, then English."""
    if override is not None:
        return override
    if paste in ("en", "zh-TW"):
        return paste  # type: ignore[return-value]
    return deps.locale.lang(client, user) or "en"


def failure_text(lang: Lang, ref: str) -> str:
    """The fixed sentence a user sees when something broke, with the reference id."""
    return FAILED[lang].format(ref=ref)


def slack_call(deps: Deps, method: str, call: Callable[[], Any]) -> Any | None:
    """Run one Slack call; a failure is logged with a reference id and counted, never raised."""
    try:
        return call()
    except (SlackApiError, SlackClientError, OSError) as exc:
        ref = new_ref()
        if not counted(exc):  # an ObservedWebClient counted Web API failures already
            deps.metrics.slack_errors.labels(method).inc()
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.error("slack call failed", extra={"ref": ref, "method": method, "error": error})
        return None


def post_in_thread(
    deps: Deps,
    client: WebClient,
    channel: str,
    thread_ts: str | None,
    replies: Sequence[Reply],
    kind: str,
) -> int:
    """Post ``replies`` in order (in a thread unless ``thread_ts`` is None); returns how many."""
    sent = 0
    for reply in replies:
        if post_one(deps, client, channel, thread_ts, reply, kind) is None:
            break  # later parts make no sense without the earlier ones
        sent += 1
    return sent


def respond_all(
    deps: Deps, respond: Callable[..., Any], replies: Sequence[Reply], kind: str, **extra: Any
) -> int:
    """Send ``replies`` through a response_url (ephemeral unless ``extra`` says otherwise)."""
    sent = 0
    options = {"response_type": "ephemeral", "replace_original": False, **extra}
    for reply in replies:
        ok = slack_call(deps, "response_url", partial(_checked, respond, reply, options))
        if ok is None:
            break
        sent += 1
        deps.metrics.replies.labels(kind).inc()
    return sent


def _checked(respond: Callable[..., Any], reply: Reply, options: dict[str, Any]) -> Any:
    # A response_url answers with a status, not an exception; make a refusal look like one.
    resp = respond(text=reply.text, blocks=reply.blocks, **options)
    status = getattr(resp, "status_code", 200)
    if status >= 300:
        raise SlackClientError(f"response_url answered {status}")
    return resp


def post_one(
    deps: Deps, client: WebClient, channel: str, thread_ts: str | None, reply: Reply, kind: str
) -> str | None:
    """Post one message (in a thread unless ``thread_ts`` is None); its ts, or None on failure."""
    post = partial(
        client.chat_postMessage,
        channel=channel,
        thread_ts=thread_ts,
        text=reply.text,
        blocks=reply.blocks,
        unfurl_links=False,
    )
    resp = slack_call(deps, "chat.postMessage", post)
    if resp is None:
        return None
    deps.metrics.replies.labels(kind).inc()
    return str(resp.get("ts") or "") or None


def post_private(
    deps: Deps, client: WebClient, channel: str, user: str, text: str, thread_ts: str | None = None
) -> bool:
    """An ephemeral message only ``user`` sees (refusals); True when Slack took it."""
    said = escape(text)  # sentences carry names from pastes and Azure
    post = partial(
        client.chat_postEphemeral, channel=channel, user=user, text=said, thread_ts=thread_ts
    )
    if slack_call(deps, "chat.postEphemeral", post) is None:
        return False
    deps.metrics.replies.labels("private").inc()
    return True


def update_message(deps: Deps, client: WebClient, channel: str, ts: str, reply: Reply) -> bool:
    """Replace a message the bot posted (an approval card); True when Slack took it."""
    call = partial(client.chat_update, channel=channel, ts=ts, text=reply.text, blocks=reply.blocks)
    return slack_call(deps, "chat.update", call) is not None


def thread_root_text(deps: Deps, client: Any, channel: str, thread_ts: str) -> str:
    """The text of a thread's first message ('' when Slack will not say)."""
    resp = slack_call(
        deps,
        "conversations.replies",
        lambda: client.conversations_replies(
            channel=channel, ts=thread_ts, limit=1, inclusive=True
        ),
    )
    messages = (resp.get("messages") if resp is not None else None) or []
    root = next((m for m in messages if m.get("ts") == thread_ts), messages[0] if messages else {})
    return str(root.get("text") or "")
