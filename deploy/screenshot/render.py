"""Draw the bot's real Block Kit replies to a paste as Slack-like PNG pictures (README images).

``reply.png`` is the short first answer in the paste's thread; ``details.png`` is what its
"Show details" button posts. Both come from the same builders the bot posts with.

Run from the repository root (needs Pillow, ``pip install pillow``, and the DejaVu fonts):
``python deploy/screenshot/render.py [OUT_DIR]`` (default: ``deploy/screenshot``).
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from bot import ids
from bot.blocks import answer_replies, details_replies
from knowledge.matcher import analyse, default_matcher

PASTE = (
    "Backup of vm-sql-02 failed again :( \n"
    '{"error": {"code": "UserErrorRpCollectionLimitReached", '
    '"message": "The Restore Point collection max limit has reached."}}'
)
ACTIONS = ("restore_points", "locks", "remove_rg_lock", "delete_restore_point_collection")

FONTS = Path("/usr/share/fonts/truetype/dejavu")
WIDTH, MARGIN, INDENT = 900, 24, 70  # picture width, page margin, text start right of avatars
INK, GREY, LINK, CODE, RULE = "#1d1c1d", "#616061", "#1264a3", "#e01e5a", "#dddddd"
Style = tuple[str, int, str]  # font file, size, colour
_RUN = re.compile(r"<([^|<>]+)\|([^<>]*)>|`([^`\n]+)`|\*([^*\n]+)\*")


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """A DejaVu face (``Sans``, ``Sans-Bold``, ``SansMono``) at ``size`` pixels."""
    return ImageFont.truetype(str(FONTS / f"DejaVu{name}.ttf"), size)


def runs(mrkdwn: str, size: int, colour: str) -> Iterator[tuple[str, Style]]:
    """Slack mrkdwn as the bot writes it, in styled pieces: links, code, bold, plain text."""
    at = 0
    for m in _RUN.finditer(mrkdwn):
        yield html.unescape(mrkdwn[at : m.start()]), ("Sans", size, colour)
        if m[1]:
            yield html.unescape(m[2]), ("Sans", size, LINK)
        elif m[3]:
            yield html.unescape(m[3]), ("SansMono", size - 2, CODE)
        else:
            yield html.unescape(m[4]), ("Sans-Bold", size, colour)
        at = m.end()
    yield html.unescape(mrkdwn[at:]), ("Sans", size, colour)


class Canvas:
    """A tall white page drawn top to bottom; ``picture`` crops it to what was drawn."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH, 6000), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.y = MARGIN

    def text(self, mrkdwn: str, *, size: int = 15, colour: str = INK, left: int = INDENT) -> None:
        """Wrapped mrkdwn from ``left`` to the right margin; each line in its own paragraph."""
        for paragraph in mrkdwn.split("\n"):
            x, line = left, round(size * 1.5)
            for piece, (face, px, ink) in runs(paragraph, size, colour):
                f = font(face, px)
                for word in re.findall(r"\S+\s*|\s+", piece):
                    w = self.draw.textlength(word, font=f)
                    if x + w > WIDTH - MARGIN and x > left:
                        x, self.y = left, self.y + line
                    if face == "SansMono":
                        box = (x - 1, self.y + 1, x + w + 1, self.y + line - 3)
                        self.draw.rectangle(box, fill="#f6f6f6")
                    self.draw.text((x, self.y + 2), word, font=f, fill=ink)
                    x += w
            self.y += line

    def author(self, initials: str, name: str, colour: str, *, app: bool = False) -> None:
        """An avatar square and the author's name, as at the top of a Slack message."""
        left = INDENT - 46
        self.draw.rounded_rectangle((left, self.y, left + 36, self.y + 36), 6, fill=colour)
        self.draw.text(
            (left + 18, self.y + 18),
            initials,
            font=font("Sans-Bold", 13),
            fill="white",
            anchor="mm",
        )
        bold = font("Sans-Bold", 15)
        self.draw.text((INDENT, self.y), name, font=bold, fill=INK)
        if app:
            x = INDENT + self.draw.textlength(name, font=bold) + 6
            self.draw.rounded_rectangle((x, self.y + 2, x + 32, self.y + 18), 3, fill="#e8e8e8")
            self.draw.text(
                (x + 16, self.y + 10), "APP", font=font("Sans", 10), fill=GREY, anchor="mm"
            )
        self.y += 24

    def block(self, b: dict[str, Any]) -> None:
        """One Block Kit block."""
        kind = b["type"]
        if kind == "header":
            self.y += 4
            self.text(f"*{b['text']['text']}*".replace("&", "&amp;"), size=18)
        elif kind == "context":
            self.text(" ".join(e["text"] for e in b["elements"]), size=13, colour=GREY)
        elif kind == "section":
            self.y += 4
            self.text(b["text"]["text"])
        elif kind == "divider":
            self.draw.line((INDENT, self.y + 8, WIDTH - MARGIN, self.y + 8), fill=RULE)
            self.y += 16
        elif kind == "actions":
            self.buttons([e["text"]["text"] for e in b["elements"]])

    def buttons(self, labels: list[str]) -> None:
        """A row of Slack buttons, wrapping to the next row when full."""
        f, x, self.y = font("Sans-Bold", 13), INDENT, self.y + 8
        for text in labels:
            w = self.draw.textlength(text, font=f) + 24
            if x + w > WIDTH - MARGIN:
                x, self.y = INDENT, self.y + 38
            self.draw.rounded_rectangle((x, self.y, x + w, self.y + 30), 4, outline="#bbbbbb")
            self.draw.text((x + 12, self.y + 15), text, font=f, fill=INK, anchor="lm")
            x += w + 8
        self.y += 40

    def picture(self) -> Image.Image:
        """The drawn part of the page."""
        return self.image.crop((0, 0, WIDTH, self.y + MARGIN))


def replies() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The blocks of the first reply to ``PASTE``, and of what its "Show details" posts."""
    kb = default_matcher().kb
    first = answer_replies(analyse(PASTE).matches, kb, "en", paste_hash="0" * 64, actions=ACTIONS)
    blocks = [b for r in first for b in r.blocks]
    clicked = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.DETAILS
    )
    value = json.loads(clicked["value"])
    entry = kb.get(value["code"])
    assert entry is not None
    more = details_replies(
        entry, kb, value["lang"], code=value.get("as"), steps=bool(value["steps"]), actions=ACTIONS
    )
    return blocks, [b for r in more for b in r.blocks]


def draw(blocks: list[dict[str, Any]], *, paste: bool) -> Image.Image:
    """The thread: the paste (when ``paste``) and the bot's message of ``blocks``."""
    page = Canvas()
    if paste:
        page.author("OP", "oncall-ops", "#2e7d32")
        page.text(f"`{PASTE.replace(chr(10), '` `')}`", size=14)
        page.y += 14
        page.draw.line((MARGIN, page.y, WIDTH - MARGIN, page.y), fill=RULE)
        page.y += 14
    page.author("BF", "backup-fix", "#4a154b", app=True)
    for b in blocks:
        page.block(b)
    return page.picture()


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
    short, more = replies()
    draw(short, paste=True).save(out / "reply.png", optimize=True)
    draw(more, paste=False).save(out / "details.png", optimize=True)
