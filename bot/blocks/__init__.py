"""Block Kit for every reply the bot posts: pure functions, no Slack calls.

Each builder returns ``Reply`` objects (fallback text plus at most 50 blocks); a long answer or
several answers become several replies, posted in order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final

from bot.blocks.answer import answer_unit, details_unit, more_unit, share_block
from bot.blocks.catalogue import list_replies
from bot.blocks.family import family_unit
from bot.blocks.pack import Reply, Unit, pack
from bot.blocks.usage import help_reply, no_match_reply, suggestions_reply
from knowledge.answer import compose
from knowledge.families import FamilyAnswer
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Match
from knowledge.model import Entry, Lang

__all__ = [
    "UNASKED_ANSWERS",
    "Reply",
    "answer_replies",
    "details_replies",
    "entry_replies",
    "help_reply",
    "list_replies",
    "more_replies",
    "no_match_reply",
    "suggestions_reply",
]

# A paste nobody asked about gets at most this many answers; "Show N more" posts the rest.
UNASKED_ANSWERS: Final = 3


def answer_replies(
    matches: Sequence[Match],
    kb: KnowledgeBase,
    lang: Lang,
    *,
    paste_hash: str,
    actions: Collection[str] = (),
    share: bool = False,
    families: Sequence[FamilyAnswer] = (),
    limit: int | None = None,
) -> list[Reply]:
    """The short answers to ``matches`` (the first ``limit`` of them, then "Show N more"), then
    to the unknown codes' ``families``, one after another.

    Buttons only for names in ``actions``; "Share in channel" ends the known answers.
    """
    if not matches and not families:
        return [no_match_reply(lang)]
    shown = list(matches if limit is None else matches[:limit])
    units = [
        _short(
            m.entry,
            kb,
            lang,
            code=m.code,
            excerpt=m.excerpt,
            paste_hash=paste_hash,
            actions=actions,
            divider=n > 0,
        )
        for n, m in enumerate(shown)
    ]
    if share and units:
        units[-1].groups[-1].append(share_block([m.entry.code for m in shown], lang))
    if len(matches) > len(shown):
        units.append(
            more_unit([m.code for m in matches[len(shown) :]], lang, paste_hash=paste_hash)
        )
    units += [family_unit(f, lang, divider=bool(units) or n > 0) for n, f in enumerate(families)]
    return pack(units)


def more_replies(
    found: Sequence[tuple[Entry, str]],
    kb: KnowledgeBase,
    lang: Lang,
    *,
    paste_hash: str,
    actions: Collection[str] = (),
) -> list[Reply]:
    """The short answers "Show N more" posts: each (entry, code the paste showed) in turn."""
    return pack(
        [
            _short(
                entry,
                kb,
                lang,
                code=code,
                excerpt=None,
                paste_hash=paste_hash,
                actions=actions,
                divider=n > 0,
            )
            for n, (entry, code) in enumerate(found)
        ]
    )


def details_replies(
    entry: Entry,
    kb: KnowledgeBase,
    lang: Lang,
    *,
    code: str | None = None,
    steps: bool = False,
    actions: Collection[str] = (),
) -> list[Reply]:
    """What "Show details" posts for ``entry`` (as ``code``), the steps too when ``steps``."""
    answer = compose(entry, kb, lang, code=code)
    return pack([details_unit(answer, lang, steps=steps, actions_enabled=actions)])


def entry_replies(
    entry: Entry,
    kb: KnowledgeBase,
    lang: Lang,
    *,
    paste_hash: str,
    actions: Collection[str] = (),
    share: bool = False,
) -> list[Reply]:
    """The short answer for one entry chosen by hand (a "did you mean" button), no excerpt."""
    unit = _short(
        entry,
        kb,
        lang,
        code=None,
        excerpt=None,
        paste_hash=paste_hash,
        actions=actions,
        divider=False,
    )
    if share:
        unit.groups[-1].append(share_block([entry.code], lang))
    return pack([unit])


def _short(
    entry: Entry,
    kb: KnowledgeBase,
    lang: Lang,
    *,
    code: str | None,
    excerpt: str | None,
    paste_hash: str,
    actions: Collection[str],
    divider: bool,
) -> Unit:
    return answer_unit(
        compose(entry, kb, lang, code=code),
        entry.code,
        lang,
        excerpt=excerpt,
        paste_hash=paste_hash,
        actions_enabled=actions,
        divider=divider,
    )
