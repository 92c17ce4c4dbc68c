"""Pack blocks into messages of at most 50 blocks, keeping answers and their buttons together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.blocks.text import MAX_BLOCKS, MAX_TEXT, Block, cut_mrkdwn


@dataclass(frozen=True)
class Reply:
    """One Slack message: the plain-text fallback (notifications) and its blocks."""

    text: str  # <= 3,000 characters
    blocks: list[dict[str, Any]]  # <= 50 blocks


@dataclass
class Unit:
    """One thing said (an answer, an article's codes): fallback text and groups of blocks.

    A group stays in one message when it fits in one; the last group of an answer holds its
    buttons, so they land in the message that ends the answer.
    """

    text: str
    groups: list[list[Block]] = field(default_factory=list)

    @property
    def size(self) -> int:
        """How many blocks the unit has."""
        return sum(len(g) for g in self.groups)


def pack(units: Sequence[Unit]) -> list[Reply]:
    """Lay ``units`` out in order over as few messages as keep each one whole where it can be."""
    pages: list[list[Block]] = [[]]
    owners: list[list[int]] = [[]]

    def new_page() -> None:
        if pages[-1]:
            pages.append([])
            owners.append([])

    def room() -> int:
        return MAX_BLOCKS - len(pages[-1])

    for index, unit in enumerate(units):
        if room() < unit.size <= MAX_BLOCKS:
            new_page()
        for group in unit.groups:
            if room() < len(group) <= MAX_BLOCKS:
                new_page()
            for block in group:
                if block["type"] == "divider" and not pages[-1]:
                    continue  # a divider only separates answers within one message
                if room() == 0:
                    new_page()
                pages[-1].append(block)
                if not owners[-1] or owners[-1][-1] != index:
                    owners[-1].append(index)
    return [
        Reply(text=_fallback([units[i].text for i in owner]), blocks=_with_ids(page))
        for page, owner in zip(pages, owners, strict=True)
        if page
    ]


def _fallback(texts: list[str]) -> str:
    return cut_mrkdwn("\n".join(dict.fromkeys(t for t in texts if t)), MAX_TEXT)


def _with_ids(page: list[Block]) -> list[Block]:
    # The builder names a block by its role; the position makes the id unique in the message,
    # which Slack needs when two answers carry buttons with the same action_id.
    return [{**b, "block_id": f"{b.get('block_id', b['type'])}.{n}"} for n, b in enumerate(page)]
