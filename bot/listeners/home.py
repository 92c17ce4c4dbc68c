"""The App Home tab: published when a user opens it; its Approve / Reject go through the card's
gate (``bot.remediate.decide``); its search box answers like ``/backup-fix``, in the tab."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.home import publish_home
from bot.listeners import Deps, guard
from bot.listeners.commands import command_replies
from bot.remediate import decide
from bot.replies import failure_text, post_private
from bot.sentences import sentence
from bot.vm_choice import reader_lang, thread_of

log = logging.getLogger(__name__)


def from_home(body: dict[str, Any]) -> bool:
    """True when an action came from a Home tab (Slack signs which surface it came from)."""
    view = body.get("view") or {}
    return (body.get("container") or {}).get("type") == "view" and view.get("type") == "home"


def home_value(raw: str) -> str:
    """The Home tag a Home button's value carries ('' when none)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    tag = data.get("home") if isinstance(data, dict) else None
    return tag if isinstance(tag, str) and len(tag) <= 128 else ""


def register(app: App, deps: Deps) -> None:
    """Listen to app_home_opened, the Home tab's decisions and its search box."""

    def on_opened(event: dict[str, Any], client: WebClient) -> None:
        deps.metrics.events.labels("app_home_opened").inc()
        user = str(event.get("user") or "")
        if event.get("tab", "home") != "home" or not user:
            return  # the Messages tab: nothing to draw
        with guard(deps, "app_home_opened", log):
            publish_home(deps, client, user)

    def on_decision(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()  # first: Slack retries a click it did not see acknowledged within 3 seconds
        action = (body.get("actions") or [{}])[0]
        approve = action.get("action_id") == ids.HOME_APPROVE
        deps.metrics.events.labels("home_approve" if approve else "home_reject").inc()
        user = str((body.get("user") or {}).get("id") or "")

        def tell(said: str) -> None:
            publish_home(deps, client, user, notice=said)

        def notify(ref: str) -> None:
            tell(failure_text(reader_lang(deps, client, user), ref))

        with guard(deps, "home_decision", log, notify):
            if deps.ledger is None or deps.approvers is None or not deps.azure_ready:
                tell(sentence("no_azure", reader_lang(deps, client, user)))
                return
            raw = str(action.get("value") or "")
            if from_home(body):
                decide(
                    deps,
                    client,
                    raw,
                    user=user,
                    channel="",
                    message_ts="",
                    approve=approve,
                    home=home_value(raw),
                    tell=tell,
                )
                return
            # A Home button that shows up anywhere else is no card: the gate refuses it there.
            channel, _ = thread_of(body)
            ts = str((body.get("container") or {}).get("message_ts") or "")
            decide(deps, client, raw, user=user, channel=channel, message_ts=ts, approve=approve)

    def on_search(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.metrics.events.labels("home_search").inc()
        user = str((body.get("user") or {}).get("id") or "")
        text = str(((body.get("actions") or [{}])[0]).get("value") or "").strip()

        def notify(ref: str) -> None:
            publish_home(
                deps, client, user, notice=failure_text(reader_lang(deps, client, user), ref)
            )

        with guard(deps, "home_search", log, notify):
            if not from_home(body):
                channel, thread = thread_of(body)
                said = sentence("unknown_action", reader_lang(deps, client, user))
                post_private(deps, client, channel, user, said, thread)
                return
            replies, _kind = command_replies(deps, client, text, user)
            blocks = [b for r in replies for b in r.blocks]
            publish_home(deps, client, user, query=text or "help", results=blocks)

    app.event("app_home_opened")(on_opened)
    app.action(ids.HOME_APPROVE)(on_decision)
    app.action(ids.HOME_REJECT)(on_decision)
    app.action(ids.HOME_SEARCH)(on_search)
