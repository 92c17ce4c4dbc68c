"""Slack's limits, mrkdwn escaping and the small block constructors the builders share."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from bot.blocks.labels import label
from knowledge.model import Lang

Block = dict[str, Any]

MAX_BLOCKS: Final = 50
# Slack's limit is 3,000 characters counted in UTF-16 units; we count code points, so keep a
# margin for the few astral characters (emoji) a pasted excerpt may bring in.
MAX_TEXT: Final = 2900
MAX_HEADER: Final = 150
MAX_BUTTON_TEXT: Final = 75
MAX_VALUE: Final = 2000
MAX_EXCERPT: Final = 200
ELLIPSIS: Final = "…"


# A formatting mark at a word's edge can open or close bold, italic, strike or code; one inside a
# word (vm_prod_01, PROGRA~1) cannot, so those stay as typed and can still be copied.
_EDGE_MARK = re.compile(r"(?<![^\W_])[*_~`]|[*_~`](?![^\W_])")
_LOOKALIKE: Final = {"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "'"}


def escape(text: str, *, markup: bool = False) -> str:
    """``text`` made inert for mrkdwn: the one escaping every string the bot sends goes through.

    ``&``, ``<`` and ``>`` become entities, so no mention, broadcast or link can come through;
    formatting marks at a word's edge become look-alikes unless ``markup`` says the text is our
    own reviewed wording (labels, the knowledge base), whose marks are meant.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text if markup else _EDGE_MARK.sub(lambda m: _LOOKALIKE[m[0]], text)


def tr(key: str, lang: Lang, **values: str) -> str:
    """The escaped label ``key`` in ``lang``, its placeholders filled with (escaped) ``values``."""
    template = escape(label(key, lang), markup=True)
    return template.format(**values) if values else template


def shorten(text: str, limit: int) -> str:
    """Plain ``text`` cut to at most ``limit`` characters, ending in "…" when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def cut_mrkdwn(text: str, limit: int) -> str:
    """Escaped mrkdwn cut to at most ``limit`` characters without splitting a link or an entity."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    # A half <url|label> or a half &amp; would show as garbage or swallow the rest of the block.
    lt = head.rfind("<")
    if lt > head.rfind(">"):
        head = head[:lt]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head.rstrip() + ELLIPSIS


def code_span(user_text: str, limit: int = MAX_EXCERPT) -> str:
    """User text as a one-line inline code span: whitespace folded, shortened, escaped."""
    # A backtick inside would close the span early, so it becomes a look-alike quote.
    flat = re.sub(r"\s+", " ", user_text).strip().replace("`", "'")
    return f"`{escape(shorten(flat, limit), markup=True)}`"  # marks do not format in code


def link(url: str, text: str) -> str:
    """A mrkdwn link ``<url|text>``; ``text`` is raw and gets escaped."""
    return f"<{escape(url, markup=True)}|{escape(text)}>"


def value(data: dict[str, Any]) -> str:
    """A button value: compact JSON (Slack caps values at 2,000 characters)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def text_blocks(text: str, name: str, *, more: str = "") -> list[Block]:
    """Section blocks holding mrkdwn ``text``, split at line boundaries to respect Slack's limit.

    A single line over the limit is shortened with "…" and ``more`` (a mrkdwn link) appended.
    """
    suffix = f" {more}" if more else ""
    chunks: list[str] = []
    current = ""
    for raw in text.split("\n"):
        line = raw
        if len(line) > MAX_TEXT:
            line = cut_mrkdwn(line, MAX_TEXT - len(suffix)) + suffix
        if current and len(current) + 1 + len(line) > MAX_TEXT:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    chunks.append(current)
    return [section(chunk, name) for chunk in (c.strip("\n") for c in chunks) if chunk.strip()]


def section(mrkdwn: str, name: str) -> Block:
    """A section block with mrkdwn text (the caller keeps it within the limit)."""
    return {"type": "section", "block_id": name, "text": {"type": "mrkdwn", "text": mrkdwn}}


def context(mrkdwn: str, name: str) -> Block:
    """A context block with one mrkdwn element."""
    return {
        "type": "context",
        "block_id": name,
        "elements": [{"type": "mrkdwn", "text": cut_mrkdwn(mrkdwn, MAX_TEXT)}],
    }


def header(text: str, name: str = "header") -> Block:
    """A header block; plain text, shortened to Slack's 150 characters."""
    return {
        "type": "header",
        "block_id": name,
        "text": {"type": "plain_text", "text": shorten(text, MAX_HEADER), "emoji": True},
    }


def button(text: str, action_id: str, button_value: str, *, style: str | None = None) -> Block:
    """A button element; text shortened to Slack's 75 characters."""
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": shorten(text, MAX_BUTTON_TEXT), "emoji": True},
        "value": button_value,
    }
    if style is not None:
        element["style"] = style
    return element


def actions(elements: list[Block], name: str) -> list[Block]:
    """Actions blocks holding ``elements``, 25 to a block (Slack's cap)."""
    return [
        {"type": "actions", "block_id": name, "elements": elements[i : i + 25]}
        for i in range(0, len(elements), 25)
    ]
