"""Line breaking for a terminal, by display width: wide and full-width characters take two columns.

English breaks only at spaces, so words, error codes and URLs stay whole (one longer than the line
gets a line of its own). Chinese may break between characters, but never before closing
punctuation (，。」) nor after opening punctuation (「（).
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_WIDTH = 100

# No line starts with these ...
# (ASCII quotes open as often as they close: they bind to neither side.)
_NO_BREAK_BEFORE = frozenset("，。、：；！？）」』】〉》〕｝〗〙〛％…‥・ー～,.:;!?)]}%”’")
# ... and none ends with these.
_NO_BREAK_AFTER = frozenset("（「『【〈《〔｛〖〘〚([{“‘")
_SPACES = re.compile(r"\s+")


def char_width(char: str) -> int:
    """Columns ``char`` takes: 2 for East Asian wide and full-width, 0 for combining marks."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal."""
    return sum(char_width(c) for c in text)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _pieces(word: str) -> list[str]:
    """A word without spaces cut where a line may break: only beside wide characters."""
    pieces: list[str] = []
    start = 0
    for i in range(1, len(word)):
        before, after = word[i - 1], word[i]
        if (
            (_wide(before) or _wide(after))
            and after not in _NO_BREAK_BEFORE
            and before not in _NO_BREAK_AFTER
        ):
            pieces.append(word[start:i])
            start = i
    pieces.append(word[start:])
    return pieces


def wrap(
    text: str, width: int = DEFAULT_WIDTH, *, prefix: str = "", indent: str | None = None
) -> list[str]:
    """``text`` in lines of at most ``width`` columns, the first after ``prefix`` and the rest
    after ``indent`` (default: spaces as wide as ``prefix``); runs of spaces become one."""
    if indent is None:
        indent = " " * display_width(prefix)
    lines: list[str] = []
    line, used, fresh = prefix, display_width(prefix), True
    for word in _SPACES.split(text.strip()):
        for n, piece in enumerate(_pieces(word)):
            gap = 1 if n == 0 and not fresh else 0
            size = display_width(piece)
            if not fresh and used + gap + size > width:
                lines.append(line)
                line, used, gap = indent, display_width(indent), 0
            line += " " * gap + piece
            used += gap + size
            fresh = False
    lines.append(line.rstrip() if fresh else line)
    return lines
