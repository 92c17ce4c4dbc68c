"""Replies that are not an answer: help, "nothing matched" and "did you mean"."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.blocks.labels import label
from bot.blocks.pack import Reply
from bot.blocks.text import (
    MAX_TEXT,
    Block,
    button,
    context,
    cut_mrkdwn,
    escape,
    header,
    section,
    tr,
)
from knowledge.matcher import Match
from knowledge.model import Lang

MAX_SUGGESTIONS = 3


def help_reply(lang: Lang) -> Reply:
    """How to use ``/backup-fix``: pasting, ``help``, ``list``, ``--lang`` and channel threads."""
    lines = [f"• {tr(key, lang)}" for key in ("help_paste", "help_help", "help_list", "help_lang")]
    blocks = [
        header(label("help_title", lang)),
        section("\n".join(lines), "usage"),
        context(tr("help_thread", lang), "threads"),
    ]
    return Reply(text=escape(label("help_title", lang)), blocks=_numbered(blocks))


def no_match_reply(lang: Lang) -> Reply:
    """Nothing matched: one sentence pointing at ``/backup-fix list``."""
    text = tr("no_match", lang)
    return Reply(text=text, blocks=_numbered([section(text, "no_match")]))


def suggestions_reply(suggestions: Sequence[Match], lang: Lang) -> Reply:
    """ "Did you mean": up to three entries, each with a button that opens it."""
    unique = list({m.entry.code: m for m in suggestions}.values())[:MAX_SUGGESTIONS]
    if not unique:
        return no_match_reply(lang)
    blocks: list[Block] = [section(tr("did_you_mean", lang), "did_you_mean")]
    for n, m in enumerate(unique):
        title = escape(m.entry.title.get(lang), markup=True)
        row = section(cut_mrkdwn(f"`{escape(m.code)}` {title}", MAX_TEXT), f"open{n}")
        row["accessory"] = button(m.code, ids.OPEN_ENTRY, m.entry.code)
        blocks.append(row)
    codes = ", ".join(m.code for m in unique)
    text = f"{tr('did_you_mean', lang)} {escape(codes)}"
    return Reply(text=text, blocks=_numbered(blocks))


def _numbered(blocks: list[Block]) -> list[Block]:
    # Same id scheme as packed replies: role plus position.
    return [{**b, "block_id": f"{b['block_id']}.{n}"} for n, b in enumerate(blocks)]
