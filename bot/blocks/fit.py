"""Keeping a first reply short: what a reader sees of it, and text cut to fit at a word boundary.

The first answer to a paste should fit on one screen (about a dozen lines in a laptop-wide Slack
window), so its visible text has a budget; "Show details" carries the rest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Final

from bot.blocks.text import ELLIPSIS

# The visible characters of a first reply: header, section and context text (buttons excluded).
MAX_VISIBLE: Final = 900

_LINK = re.compile(r"<[^<>|]*\|([^<>]*)>")
_ENTITIES: Final = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY = re.compile("|".join(_ENTITIES))
# Marks that pair up in mrkdwn: a cut between a pair would format (or code) the rest of a line.
_PAIRED: Final = "`*"
_TRAILING: Final = " \t\n,;:(（，、；：—-"


def visible_text(blocks: Iterable[dict[str, Any]]) -> list[str]:
    """The text a reader sees in ``blocks``: headers, sections and context elements, with links
    shown as their labels and entities as their characters."""
    out: list[str] = []
    for block in blocks:
        texts = [block.get("text"), *block.get("fields", [])]
        if block.get("type") == "context":
            texts += block.get("elements", [])
        for t in texts:
            if isinstance(t, dict) and t.get("type") in ("mrkdwn", "plain_text"):
                text = str(t.get("text", ""))
                if t["type"] == "mrkdwn":
                    text = _ENTITY.sub(lambda m: _ENTITIES[m[0]], _LINK.sub(r"\1", text))
                out.append(text)
    return out


def visible_length(blocks: Iterable[dict[str, Any]]) -> int:
    """How many characters a reader sees in ``blocks`` (see ``visible_text``)."""
    return sum(len(t) for t in visible_text(blocks))


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _breaks(text: str, end: int) -> int:
    """The last place at or before ``end`` where a line may break: a space, or beside a wide
    (CJK) character, which Chinese text breaks between; 0 when there is none."""
    for i in range(min(end, len(text)), 0, -1):
        before, at = text[i - 1], text[i] if i < len(text) else " "
        if at.isspace() or before.isspace() or _wide(before) or _wide(at):
            return i
    return 0


def cut_words(text: str, limit: int) -> str:
    """Plain ``text`` in at most ``limit`` characters: whole when it fits, else cut at a word
    boundary (never inside a code span or bold) and ended with "…"."""
    if len(text) <= limit:
        return text
    room = max(limit - len(ELLIPSIS), 0)
    end = _breaks(text, room)
    if end < room // 2:  # one very long word (a path, an id): cut it rather than lose the line
        end = room
    head = text[:end]
    for mark in _PAIRED:
        if head.count(mark) % 2:
            head = head[: _breaks(head, head.rfind(mark))]
    return head.rstrip(_TRAILING) + ELLIPSIS


def allot(lengths: Sequence[int], budget: int, *, floor: int) -> int | None:
    """The largest cap (at least ``floor``) such that ``lengths`` cut to it fit in ``budget``:
    the longest texts give way first. None when even ``floor`` is too much."""
    if sum(lengths) <= budget:
        return max(lengths, default=0)
    low, high = floor, max(lengths, default=floor)
    if sum(min(n, low) for n in lengths) > budget:
        return None
    while low < high:
        mid = (low + high + 1) // 2
        if sum(min(n, mid) for n in lengths) <= budget:
            low = mid
        else:
            high = mid - 1
    return low
