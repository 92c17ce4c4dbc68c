"""Every listener thread taken and their queue full: answer Slack at once and say "busy".

Checked before Bolt hands the request to a listener thread, so a flood never queues without end.
Asked-for work hears why nothing happens (in the thread, in the reader's language); an unasked
channel paste is let go quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse

from actions.executor import BoundedExecutor
from bot.blocks.actions import notice_reply
from bot.listeners import Deps
from bot.replies import post_one
from bot.sentences import sentence
from bot.vm_choice import thread_of

log = logging.getLogger(__name__)


def busy_middleware(deps: Deps, pool: BoundedExecutor) -> Callable[..., BoltResponse | None]:
    """A Bolt middleware that refuses requests while ``pool`` (the listener threads) is full."""

    # Bolt passes the arguments by name, `next` included.
    def refuse_when_full(
        body: dict[str, Any], context: BoltContext, next: Callable[[], None]
    ) -> BoltResponse | None:
        if not pool.full():
            next()
            return None
        deps.metrics.errors.labels("busy").inc()
        log.warning("listener threads busy: request refused", extra={"type": body.get("type")})
        try:
            return _tell(deps, context.client, body)
        except Exception:  # telling is best effort; the 200 below must still go out
            log.warning("could not say busy", exc_info=True)
            return BoltResponse(status=200, body="")

    return refuse_when_full


def _tell(deps: Deps, client: Any, body: dict[str, Any]) -> BoltResponse:
    event = body.get("event") or {}
    user = body.get("user_id") or (body.get("user") or {}).get("id") or event.get("user")
    if body.get("command"):  # a slash command's answer is the acknowledgement itself
        said = sentence("busy", deps.locale.lang(client, user) or "en")
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": said})
    if event.get("type") == "app_mention":
        channel, thread = str(event.get("channel") or ""), event.get("thread_ts") or event.get("ts")
    elif body.get("type") == "block_actions":
        channel, thread = thread_of(body)
    else:
        return BoltResponse(status=200, body="")  # unasked: silence, as for chatter
    if channel:
        lang = deps.locale.lang(client, user) or "en"
        reply = notice_reply(sentence("busy", lang), "busy")
        post_one(deps, client, channel, str(thread) if thread else None, reply, "busy")
    return BoltResponse(status=200, body="")
