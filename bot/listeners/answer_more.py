"""The rest of an answer, on request: "Show details" (one answer's details) and "Show N more" (the
answers of a paste beyond the first three), each posted once per thread.

"Once" holds across replicas: the post is claimed first in the store's answered-threads table,
under keys no error code has (``details:<code>``, ``more:<digest>``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import ids
from bot.blocks import Reply, details_replies, more_replies
from bot.listeners import Deps, guard
from bot.replies import REFUSED, failure_text, post_in_thread, respond_all
from knowledge.model import Entry, Lang

log = logging.getLogger(__name__)

_HASH = re.compile(r"^[0-9a-f]{8,256}$")
MAX_MORE = 10  # a paste has at most five answers; more in a value means it was made up


def _data(body: dict[str, Any]) -> dict[str, Any]:
    raw = str(((body.get("actions") or [{}])[0]).get("value") or "")
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _found(deps: Deps, code: Any, shown: Any = None) -> tuple[Entry, str] | None:
    """The entry ``code`` names and the code to show (an alias of it, or its own)."""
    entry = deps.kb.get(code) if isinstance(code, str) else None
    if entry is None:
        return None
    if shown is None:
        return entry, code
    return (entry, shown) if isinstance(shown, str) and deps.kb.get(shown) is entry else None


def details_request(deps: Deps, data: dict[str, Any]) -> tuple[Entry, str, Lang, bool] | None:
    """(entry, code shown, language, steps again) of a "Show details" value; None if forged."""
    lang, steps = data.get("lang"), data.get("steps", 0)
    found = _found(deps, data.get("code"), data.get("as"))
    if found is None or lang not in ("en", "zh-TW") or steps not in (0, 1):
        return None
    return found[0], found[1], lang, bool(steps)


def more_request(
    deps: Deps, data: dict[str, Any]
) -> tuple[list[tuple[Entry, str]], Lang, str] | None:
    """(entries with the codes shown, language, paste hash) of "Show N more"; None if forged."""
    codes, lang, digest = data.get("codes"), data.get("lang"), data.get("hash")
    if not isinstance(codes, list) or not 0 < len(codes) <= MAX_MORE:
        return None
    if lang not in ("en", "zh-TW") or not isinstance(digest, str) or not _HASH.match(digest):
        return None
    found = [_found(deps, c) for c in codes]
    if any(f is None for f in found):
        return None
    return [f for f in found if f is not None], lang, digest


def place(body: dict[str, Any]) -> tuple[str, str, bool]:
    """(channel, thread, whether the clicked message is ephemeral) of a click on an answer."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    thread = (
        message.get("thread_ts")
        or container.get("thread_ts")
        or message.get("ts")
        or container.get("message_ts")
    )
    return channel, str(thread or ""), bool(container.get("is_ephemeral")) or not message


def _post(
    deps: Deps,
    client: WebClient,
    respond: Respond,
    body: dict[str, Any],
    replies: list[Reply],
    kind: str,
) -> None:
    channel, thread, ephemeral = place(body)
    if ephemeral:  # an answer only its caller sees (/backup-fix): so are its details
        respond_all(deps, respond, replies, kind)
    else:
        post_in_thread(deps, client, channel, thread, replies, kind)


def register(app: App, deps: Deps) -> None:
    """Listen to "Show details" and "Show N more"."""

    def lang_of(client: WebClient, body: dict[str, Any]) -> Lang:
        return deps.locale.lang(client, str((body.get("user") or {}).get("id") or "")) or "en"

    def refuse(client: WebClient, body: dict[str, Any], respond: Respond) -> None:
        text = REFUSED[lang_of(client, body)]
        respond(text=text, response_type="ephemeral", replace_original=False)

    def notifier(respond: Respond, client: WebClient, body: dict[str, Any]) -> Any:
        return lambda ref: respond(
            text=failure_text(lang_of(client, body), ref), replace_original=False
        )

    def on_details(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        deps.metrics.events.labels("details").inc()
        with guard(deps, "details", log, notifier(respond, client, body)):
            asked = details_request(deps, _data(body))
            if asked is None:
                refuse(client, body, respond)
                return
            entry, code, lang, steps = asked
            channel, thread, _ = place(body)
            if not deps.store.claim_answer(channel, thread, f"details:{entry.code}"):
                return  # already posted in this thread, by this replica or another
            actions = deps.actions_in(channel)
            replies = details_replies(entry, deps.kb, lang, code=code, steps=steps, actions=actions)
            _post(deps, client, respond, body, replies, "details")

    def on_more(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        deps.metrics.events.labels("more").inc()
        with guard(deps, "more", log, notifier(respond, client, body)):
            asked = more_request(deps, _data(body))
            if asked is None:
                refuse(client, body, respond)
                return
            found, lang, digest = asked
            channel, thread, _ = place(body)
            # The key is made of what was validated: extra fields in a value change nothing.
            said = ",".join([digest, *(entry.code for entry, _ in found)])
            key = hashlib.sha256(said.encode()).hexdigest()[:32]
            if not deps.store.claim_answer(channel, thread, f"more:{key}"):
                return
            actions = deps.actions_in(channel)
            replies = more_replies(found, deps.kb, lang, paste_hash=digest, actions=actions)
            _post(deps, client, respond, body, replies, "more")

    app.action(ids.DETAILS)(on_details)
    app.action(ids.MORE)(on_more)
