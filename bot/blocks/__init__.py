"""Block Kit for every reply the bot posts: pure functions, no Slack calls.

Each builder returns ``Reply`` objects (fallback text plus at most 50 blocks); a long answer or
several answers become several replies, posted in order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.blocks.answer import answer_unit, share_block
from bot.blocks.catalogue import list_replies
from bot.blocks.family import family_unit
from bot.blocks.pack import Reply, pack
from bot.blocks.usage import help_reply, no_match_reply, suggestions_reply
from knowledge.answer import compose
from knowledge.families import FamilyAnswer
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Match
from knowledge.model import Entry, Lang

__all__ = [
    "Reply",
    "answer_replies",
    "entry_replies",
    "help_reply",
    "list_replies",
    "no_match_reply",
    "suggestions_reply",
]


def answer_replies(
    matches: Sequence[Match],
    kb: KnowledgeBase,
    lang: Lang,
    *,
    paste_hash: str,
    actions: Collection[str] = (),
    share: bool = False,
    families: Sequence[FamilyAnswer] = (),
) -> list[Reply]:
    """The answers to ``matches``, then to the unknown codes' ``families``, one after another.

    Buttons only for names in ``actions``; "Share in channel" ends the known answers.
    """
    if not matches and not families:
        return [no_match_reply(lang)]
    units = [
        answer_unit(
            compose(m.entry, kb, lang, code=m.code),
            m.entry.code,
            lang,
            excerpt=m.excerpt,
            paste_hash=paste_hash,
            actions_enabled=actions,
            divider=n > 0,
        )
        for n, m in enumerate(matches)
    ]
    if share and units:
        units[-1].groups[-1].append(share_block([m.entry.code for m in matches], lang))
    units += [family_unit(f, lang, divider=bool(units) or n > 0) for n, f in enumerate(families)]
    return pack(units)


def entry_replies(
    entry: Entry,
    kb: KnowledgeBase,
    lang: Lang,
    *,
    paste_hash: str,
    actions: Collection[str] = (),
    share: bool = False,
) -> list[Reply]:
    """The answer for one entry chosen by hand (a "did you mean" button), without an excerpt."""
    unit = answer_unit(
        compose(entry, kb, lang),
        entry.code,
        lang,
        excerpt=None,
        paste_hash=paste_hash,
        actions_enabled=actions,
        divider=False,
    )
    if share:
        unit.groups[-1].append(share_block([entry.code], lang))
    return pack([unit])
