"""The Markdown side of ``kb import``: front matter, heading blocks, body items and plain text.

Microsoft Docs articles are DocFX Markdown: YAML front matter, headings with ``<a name>`` anchors,
lists, pipe tables, ``> [!NOTE]`` callouts, ``:::image:::`` lines and some raw HTML. This module
cuts an article into blocks (one per heading) of items; ``knowledge.importer`` gives them meaning.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

import yaml

from knowledge.lang import detect_lang
from knowledge.model import Lang

# Relative links in the articles are relative to the Azure Backup docs folder on Learn.
LEARN_BASE = "https://learn.microsoft.com/azure/backup/"

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FRONT = re.compile(r"---[ \t]*\n(.*?)\n?---[ \t]*(?:\n|$)", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ANCHOR = re.compile(r"""<a\s+(?:name|id)\s*=\s*["']([^"']*)["']\s*/?>\s*(?:</a>)?""", re.I)
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_QUOTE = re.compile(r"^\s*>\s?(.*)$")
_TABLE = re.compile(r"^\s*\|")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")
# A table without outer pipes ("a | b" over "--|--") starts where a rule line follows its head.
_BARE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_SKIP_LINE = re.compile(r"^\s*(?::::image\b.*|!\[[^\]]*\]\([^)]*\)|\[!INCLUDE\b.*)\s*$", re.I)

_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|])")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|:::image\b.*?:::")
LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_TAG = re.compile(r"</?(?:a|b|i|p|em|strong|span|div|sup|sub|ol|ul|li|br)\b[^>]*>", re.I)
_CALLOUT = re.compile(r"\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.I)
_STARS = re.compile(r"\*{2,}")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_EM_UNDER = re.compile(r"(?<!\w)_(?=\S)([^_]+?)(?<=\S)_(?!\w)")
BR = re.compile(r"<br\s*/?>", re.I)

Kind = Literal["para", "item", "row", "note"]


@dataclass
class Item:
    """One piece of a heading's body; ``text`` keeps the Markdown (lines joined with newlines)."""

    kind: Kind
    text: str = ""
    depth: int = 0
    cells: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  # a row's table head ([] when it has none)
    fenced: list[str] = field(default_factory=list)  # code-fence lines folded into ``text``


@dataclass
class Block:
    """A heading (level 0: the text before the first heading) and the items up to the next one."""

    level: int
    title: str
    anchors: list[str]
    items: list[Item] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The article's front matter as a mapping and the Markdown after it; ValueError if broken."""
    text = _COMMENT.sub("", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    body = text.lstrip()
    if not body.startswith("---"):
        return {}, text
    match = _FRONT.match(body)
    if match is None:
        raise ValueError("malformed front matter: the opening '---' has no closing '---' line")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at its line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"malformed front matter: not valid YAML{where}") from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ValueError("malformed front matter: it must be a mapping of keys to values")
    return {str(k): v for k, v in meta.items()}, body[match.end() :]


def split_blocks(body: str) -> list[Block]:
    """Cut the Markdown into heading blocks; headings inside code fences are code, not headings."""
    blocks = [Block(0, "", [])]
    lines: list[str] = []
    fenced = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading is None:
            lines.append(line)
            continue
        blocks[-1].items = parse_items(lines)
        lines = []
        raw = heading.group(2)
        blocks.append(
            Block(len(heading.group(1)), _ANCHOR.sub("", raw).strip(), _ANCHOR.findall(raw))
        )
    blocks[-1].items = parse_items(lines)
    return blocks


def parse_items(lines: list[str]) -> list[Item]:
    """Paragraphs, list items (with nesting depth), table rows and notes of one block."""
    items: list[Item] = []
    indents: list[int] = []  # marker indents of the open list items, outermost first
    current: Item | None = None  # the paragraph or list item that takes continuation lines
    blank = False
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            blank = True
            continue
        if _SKIP_LINE.match(line):
            continue
        indent = len(line) - len(line.lstrip())
        if _FENCE.match(line):
            code = []
            while i < len(lines) and not _FENCE.match(lines[i]):
                code.append(lines[i].strip())
                i += 1
            i += 1
            if current is not None:  # a command belongs to the step or paragraph introducing it
                current.text += "\n" + " ".join(c for c in code if c)
                current.fenced.append(" ".join(c for c in code if c))
        elif quoted := _QUOTE.match(line):
            quote = [quoted.group(1)]
            while i < len(lines) and (more := _QUOTE.match(lines[i])):
                quote.append(more.group(1))
                i += 1
            items.append(Item("note", "\n".join(quote)))
            current = None
        elif _TABLE.match(line) or (
            "|" in line and i < len(lines) and bool(_BARE_RULE.match(lines[i]))
        ):
            rows = [line]
            while i < len(lines) and "|" in lines[i]:  # a row may lack its outer pipes
                rows.append(lines[i])
                i += 1
            items += _table(rows)
            current, indents = None, []
        elif m := _LIST.match(line):
            while indents and indents[-1] > indent:
                indents.pop()
            if not indents or indents[-1] < indent:
                indents.append(indent)
            current = Item("item", m.group(2), depth=len(indents) - 1)
            items.append(current)
        elif current is not None and (
            not blank or (current.kind == "item" and indents and indent > indents[-1])
        ):
            current.text += "\n" + line.strip()
        else:
            current = Item("para", line.strip())
            items.append(current)
            if indent == 0:
                indents = []
        blank = False
    return items


def _table(rows: list[str]) -> list[Item]:
    """A table's rows; each knows the table's head, which is no row of its own."""
    header = len(rows) > 1 and bool(_TABLE_RULE.match(rows[1]) or _BARE_RULE.match(rows[1]))
    head = _cells(rows[0]) if header else []
    return [
        Item("row", cells=_cells(row), header=head)
        for row in (rows[1:] if header else rows)
        if not (_TABLE_RULE.match(row) or _BARE_RULE.match(row)) and any(_cells(row))
    ]


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [c.strip() for c in _CELL_SPLIT.split(row)]


def link_url(url: str) -> str:
    """An absolute address for a link found in an article ('' for a link into the article)."""
    if not url or url.startswith("#"):
        return ""
    if re.match(r"^[a-z]+:", url, re.I):
        return url
    return re.sub(r"\.md(?=[#?]|$)", "", urljoin(LEARN_BASE, url.lstrip("~")))


def plain(markdown: str) -> str:
    """Plain text: links become "text (url)", images, HTML, emphasis and callout markers go."""
    text = _IMAGE.sub(" ", markdown)

    def _link(m: re.Match[str]) -> str:
        label, url = m.group(1).strip(), link_url(m.group(2))
        if not url:
            return label
        return f"{label} ({url})" if label else url

    text = _AUTOLINK.sub(r"\1", LINK.sub(_link, text))
    text = _CALLOUT.sub(" ", _TAG.sub(" ", BR.sub(" ", text)))
    text = _EM_UNDER.sub(r"\1", _EM_STAR.sub(r"\1", _STARS.sub("", text)))
    text = _ESCAPE.sub(r"\1", text.replace("`", ""))
    return " ".join(html.unescape(text).split())


def learn_slug(heading: str) -> str:
    """The id Microsoft Learn gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", plain(heading).lower())
    return text.replace(" ", "-")


def ascii_anchor(anchor: str) -> str:
    """``anchor`` if it fits the knowledge base's anchor pattern, else '' (e.g. Chinese slugs)."""
    return anchor if re.fullmatch(r"[A-Za-z0-9_.-]+", anchor) else ""


def section_id(anchor: str) -> str | None:
    """A section id from an anchor: lower case, '_' to '-', cut to ``^[a-z0-9][a-z0-9-]{1,79}$``."""
    text = re.sub(r"[^a-z0-9-]", "", anchor.lower().replace("_", "-")).lstrip("-")
    text = text[:80].rstrip("-")
    return text if len(text) >= 2 else None


def language(meta: dict[str, Any], body: str) -> Lang:
    """The article's language: ``ms.contentlocale``, else the language of its prose."""
    locale = str(meta.get("ms.contentlocale") or "").strip().casefold()
    if locale in ("zh-tw", "zh-hant"):
        return "zh-TW"
    if locale.startswith("en"):
        return "en"
    if locale:
        raise ValueError(f"ms.contentlocale {locale!r} is neither English nor zh-TW")
    return detect_lang(plain(body)) or "en"


def article_id_of(meta: dict[str, Any], blocks: list[Block]) -> str:
    """A default article id: a slug of the front matter's title, else of the H1 heading."""
    title = str(meta.get("title") or "")
    candidates = [learn_slug(title)] if title.isascii() else []
    for block in (b for b in blocks if b.level == 1):
        candidates += [*block.anchors, learn_slug(block.title) if block.title.isascii() else ""]
    return next((sid for c in candidates if (sid := section_id(c))), "article")
