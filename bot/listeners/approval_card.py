"""The approval card's Approve and Reject buttons: private refusals, one winner, audited."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.listeners import Deps, guard
from bot.remediate import decide
from bot.replies import failure_text, post_private
from bot.sentences import sentence
from bot.vm_choice import reader_lang, thread_of

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """Listen to Approve and Reject."""

    def on_decision(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()  # first: Slack retries a click it did not see acknowledged within 3 seconds
        action = (body.get("actions") or [{}])[0]
        approve = action.get("action_id") == ids.APPROVE
        deps.metrics.events.labels("approve" if approve else "reject").inc()
        user = str((body.get("user") or {}).get("id") or "")
        channel, thread = thread_of(body)

        def notify(ref: str) -> None:
            lang = reader_lang(deps, client, user)
            post_private(deps, client, channel, user, failure_text(lang, ref), thread)

        with guard(deps, "approval", log, notify):
            if not deps.settings.acts_in(channel):
                said = sentence("not_action_channel", reader_lang(deps, client, user))
                post_private(deps, client, channel, user, said, thread)
                return
            raw = str(action.get("value") or "")
            card = clicked_message(body)
            decide(deps, client, raw, user=user, channel=channel, message_ts=card, approve=approve)

    app.action(ids.APPROVE)(on_decision)
    app.action(ids.REJECT)(on_decision)


def clicked_message(body: dict[str, Any]) -> str:
    """The ts of the message a button was clicked on ("" for an ephemeral one: never a card)."""
    container = body.get("container") or {}
    if container.get("is_ephemeral"):
        return ""
    return str(container.get("message_ts") or (body.get("message") or {}).get("ts") or "")
