"""``/backup-fix``: an answer only the caller sees; help, list, status, ``--lang`` and "did you
mean"."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import ids
from bot.audit_cli import audit_page
from bot.blocks import (
    Reply,
    help_reply,
    list_replies,
    no_match_reply,
    suggestions_reply,
)
from bot.blocks.actions import audit_reply, notice_reply
from bot.blocks.text import escape
from bot.listeners import Deps, guard
from bot.replies import (
    analyse_paste,
    asked_replies,
    choose_lang,
    failure_text,
    respond_all,
)
from bot.sentences import sentence
from bot.unmatched import note_unmatched
from knowledge.model import Lang

log = logging.getLogger(__name__)

_AUDIT = re.compile(r"audit(?:\s+#?([0-9]{1,12}))?")  # `audit 120`: the records before #120
_LANG = re.compile(r"^\s*--lang(?:\s+|=)(\S+)\s*", re.IGNORECASE)
AUDIT_LINES = 20
LANGS: dict[str, Lang] = {"en": "en", "zh-tw": "zh-TW", "zh_tw": "zh-TW"}


def parse_command(text: str) -> tuple[str, Lang | None, bool]:
    """(rest of the text, ``--lang`` value, whether ``--lang`` was unusable)."""
    found = _LANG.match(text)
    if not found:
        return text.strip(), None, False
    lang = LANGS.get(found.group(1).lower())
    return text[found.end() :].strip(), lang, lang is None


def command_replies(
    deps: Deps, client: WebClient, text: str, user: str | None, *, channel: str = ""
) -> tuple[list[Reply], str]:
    """The ephemeral replies to ``/backup-fix text`` and what kind they are."""
    rest, override, bad_lang = parse_command(text)
    word = rest.lower()
    if bad_lang or word in ("", "help", "-h", "--help"):
        lang = choose_lang(deps, client, user, override=override, paste=None)
        return [help_reply(lang)], "help"
    if (page := _AUDIT.fullmatch(word)) is not None:
        lang = choose_lang(deps, client, user, override=override, paste=None)
        before = int(page[1]) if page[1] else None
        return [audit_command_reply(deps, client, user, lang=lang, before=before)], "audit"
    if word == "status" or word.startswith("status "):
        return [status_reply(deps, rest[len("status") :].strip())], "status"
    if word == "list":
        lang = choose_lang(deps, client, user, override=override, paste=None)
        return list_replies(deps.kb, lang), "list"
    analysis = analyse_paste(deps, rest)
    lang = choose_lang(deps, client, user, override=override, paste=analysis.lang)
    if analysis.unknown_codes or not analysis.matches:
        note_unmatched(deps, rest, analysis, source="command", channel=channel)
    replies = asked_replies(deps, analysis, rest, lang, channel=channel, share=True)
    if replies:
        return replies, "answer" if analysis.matches else "family"
    if analysis.suggestions:
        return [suggestions_reply(analysis.suggestions, lang)], "suggestions"
    return [no_match_reply(lang)], "no_match"


def status_reply(deps: Deps, target: str) -> Reply:
    """``/backup-fix status [vm|vault]``: the estate's incidents, or one item's or vault's."""
    from incidents import status  # the incident tables: only when asked
    from incidents.state import IncidentState

    state = IncidentState(deps.store.engine)
    if target:
        blocks = status.about_blocks(target, status.about(state, target))
    else:
        blocks = status.estate_blocks(status.estate(state, deps.clock()), deps.clock())
    said = f"Backup status: {target}" if target else "Backup estate status"
    return Reply(text=escape(said), blocks=blocks)


def audit_command_reply(
    deps: Deps, client: WebClient, user: str | None, *, lang: Lang = "en", before: int | None = None
) -> Reply:
    """The last audit records (before ``before``) for an approver; a polite refusal for anyone
    else. One page is read from the database, never the whole trail."""
    if deps.ledger is None or deps.approvers is None:
        return notice_reply(sentence("audit_refused", lang), "audit")
    if not user or not deps.approvers.is_approver(client, user):
        return notice_reply(sentence("audit_refused", lang), "audit")
    return audit_reply(audit_page(deps.store, limit=AUDIT_LINES, before=before), lang=lang)


def register(app: App, deps: Deps) -> None:
    """Listen to ``/backup-fix``."""

    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()  # first, outside any try: Slack wants it within 3 seconds
        deps.metrics.events.labels("command").inc()
        user = command.get("user_id")

        def notify(ref: str) -> None:
            lang = deps.locale.lang(client, user) or "en"
            respond(text=failure_text(lang, ref), response_type="ephemeral")

        with guard(deps, "command", log, notify):
            text, channel = str(command.get("text") or ""), str(command.get("channel_id") or "")
            replies, kind = command_replies(deps, client, text, user, channel=channel)
            respond_all(deps, respond, replies, kind)

    app.command(ids.SLASH_COMMAND)(on_command)
