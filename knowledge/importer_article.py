"""One article's errors and shared sections, as draft data for ``kb import``.

An error is a heading block that names codes (``importer_codes``), a table row that does
(``importer_tables``), or, in a block with neither, codes its prose names. A block's one-row or
transposed table gives its error's message, causes and actions. Sections are the sub-headings of
"Causes and solutions" and the headings the errors link to.
"""

from __future__ import annotations

import re
from typing import Any

from knowledge.importer_body import Body, BodyReader, Step
from knowledge.importer_codes import Codes, codes_of, heading_codes, prose_codes, title_rest
from knowledge.importer_md import LINK, Block, Item, ascii_anchor, learn_slug, plain, section_id
from knowledge.importer_tables import RowError, Tables, cell_items, read_tables
from knowledge.model import Lang

_CONTAINER = re.compile(r"causes and solutions|原因和解決方案", re.I)
_NO_MESSAGE = "the article gives no message text, only the code"


def merge(into: dict[str, Any], data: dict[str, Any]) -> None:
    """Fold a second section about the same code into the first (the docs repeat some)."""
    codes = [data["code"], *data.get("also_codes", [])]
    also = [c for c in [*into.get("also_codes", []), *codes] if c != into["code"]]
    into["also_codes"] = list(dict.fromkeys(also))
    for key in ("numeric_codes", "messages", "causes", "steps", "notes", "related", "docs"):
        values = into.setdefault(key, [])
        values += [v for v in data.get(key, []) if v not in values]
    for key in [k for k, v in into.items() if v == []]:
        del into[key]


class Article:
    """The errors and sections of one article's heading blocks."""

    def __init__(self, blocks: list[Block], lang: Lang, article_id: str, workload: str) -> None:
        self.blocks, self.lang, self.article_id = blocks, lang, article_id
        self.workload = workload
        errors = [(i, b) for i, b in enumerate(blocks) if b.level >= 2]
        self.codes = {i: c for i, b in errors if (c := codes_of(b)).codes}
        for i in [i for i in self.codes if self._listed_with_next(i)]:
            # "#### CodeA" (empty) over "#### CodeB" + its details: one error with both codes
            self.codes[i + 1].codes[:0] = self.codes.pop(i).codes
        self.tables = {i: read_tables(b.items, has_codes=i in self.codes) for i, b in errors}
        self.prose = {
            i: found
            for i, b in errors
            if i not in self.codes and not self.tables[i].rows
            if (found := [f for it in b.items if it.kind != "row" for f in prose_codes(it.text)])
        }
        first = {i: c.codes[0] for i, c in self.codes.items()}
        first |= {i: t.rows[0].found.codes[0] for i, t in self.tables.items() if t.rows}
        first |= {i: f[0][0][0] for i, f in self.prose.items()}
        self.anchors: dict[str, int] = {}
        for i, block in enumerate(blocks):
            for anchor in [*block.anchors, learn_slug(block.title)]:
                self.anchors.setdefault(anchor.casefold(), i)
        urls = [m.group(2) for b in blocks for it in b.items for m in LINK.finditer(it.text)]
        linked = [u[1:] for u in urls if u.startswith("#") and len(u) > 1]
        self.errors = set(first)
        self.reader = BodyReader(lang, self.anchors, {}, first)
        self.sections = self.reader.sections = self._find_sections(linked)

    def _listed_with_next(self, i: int) -> bool:
        block, after = self.blocks[i], self.blocks[i + 1] if i + 1 < len(self.blocks) else None
        return (
            not block.items
            and after is not None
            and after.level == block.level
            and (i + 1 in self.codes)
        )

    def _find_sections(self, linked: list[str]) -> dict[int, str]:
        linked_set = {a.casefold() for a in linked}
        targets = {self.anchors.get(a.casefold()) for a in linked}
        ids: dict[int, str] = {}
        for i, block in enumerate(self.blocks):
            parent = next(
                (p for p in range(i - 1, -1, -1) if self.blocks[p].level < block.level), 0
            )
            nested = bool(_CONTAINER.search(self.blocks[parent].title)) and parent > 0
            wrapper = i + 1 < len(self.blocks) and i + 1 in self.errors
            if block.level < 2 or i in self.errors or _CONTAINER.search(block.title) or wrapper:
                continue
            if (nested and block.level == self.blocks[parent].level + 1) or i in targets:
                linked_first = [a for a in block.anchors if a.casefold() in linked_set]
                names = [*linked_first, *block.anchors, learn_slug(block.title)]
                sid = next((s for a in names if (s := section_id(a))), f"section-{i}")
                base, n = sid, 2
                while sid in ids.values():
                    sid, n = f"{base[:76]}-{n}", n + 1
                ids[i] = sid
        return ids

    def entries(self) -> dict[str, dict[str, Any]]:
        """Entry data by main code, in the article's order; repeated codes merged."""
        entries: dict[str, dict[str, Any]] = {}
        owner: dict[str, str] = {}

        def add(data: dict[str, Any]) -> None:
            codes = [data["code"], *data.get("also_codes", [])]
            key = next((owner[c.casefold()] for c in codes if c.casefold() in owner), None)
            if key is None:
                entries[key := data["code"]] = data
            else:
                merge(entries[key], data)
            owner.update({c.casefold(): key for c in codes})

        for i in sorted(self.errors - set(self.prose)):
            if i in self.codes:
                add(self._entry(i))
            for row in self.tables[i].rows:
                add(self._row_entry(i, row))
        for i, found in self.prose.items():
            if data := self._prose_entry(i, found, owner):
                add(data)
        for data in entries.values():
            own = {c.casefold() for c in [data["code"], *data.get("also_codes", [])]}
            related = [owner.get(c.casefold(), c) for c in data.pop("related", [])]
            if related := [c for c in dict.fromkeys(related) if c.casefold() not in own]:
                data["related"] = related
        return entries

    def _scope(self, i: int) -> list[Item]:
        """The block's items and those of its sub-headings that are neither errors nor sections."""
        items = list(self.blocks[i].items)
        for j in range(i + 1, len(self.blocks)):
            if (
                self.blocks[j].level <= self.blocks[i].level
                or j in self.errors
                or j in self.sections
            ):
                break
            items += self.blocks[j].items
        return items

    def docs(self, block: Block) -> list[dict[str, str]]:
        """The doc link of a heading: its explicit anchor, else Learn's slug of its text."""
        anchor = next((a for a in map(ascii_anchor, block.anchors) if a), "")
        return [
            {"article": self.article_id, "anchor": anchor or ascii_anchor(learn_slug(block.title))}
        ]

    def _entry(self, i: int) -> dict[str, Any]:
        block, found = self.blocks[i], self.codes[i]
        tables = self.tables[i]
        body = self.reader.read(self._scope(i), found.header, skip=tables.used)
        if tables.detail is not None:
            self._details(body, tables.detail)
        if inner := [c for c in found.inner if c not in found.codes]:
            self._prefix(body, ", ".join(inner))
        rest = title_rest(block.title, found.codes, found.numeric)
        messages = found.messages or (tables.detail.found.messages if tables.detail else [])
        if not messages and rest and heading_codes(block.title)[0]:
            messages = [(rest, [])]  # "UserErrorFoo - The foo failed": the heading's message
        cause = next((c["text"] for c in body.causes if "text" in c), None)
        if not messages and cause and not inner:
            messages = [(cause, [])]  # "Cause: Backups failed because ...": what users see
        return self._assemble(block, found, body, rest, messages)

    def _row_entry(self, i: int, row: RowError) -> dict[str, Any]:
        block, body = self.blocks[i], Body()
        self._details(body, row)
        first = next((m for m, _ in row.found.messages), "")
        title = re.split(r"(?<=[\w\])])\.\s", first, maxsplit=1)[0].rstrip(".")  # first sentence
        return self._assemble(block, row.found, body, title, None)

    def _prose_entry(
        self, i: int, found: list[tuple[list[str], str | None]], owner: dict[str, str]
    ) -> dict[str, Any] | None:
        codes = [c for f in found for c in f[0] if c.casefold() not in owner]
        if not codes:
            return None
        block = self.blocks[i]
        body = self.reader.read(self._scope(i), set())
        body.related += [c for f in found for c in f[0] if c.casefold() in owner]
        messages: list[tuple[str, list[str]]] = [(m, []) for _, m in found if m]
        return self._assemble(block, Codes(list(dict.fromkeys(codes))), body, "", messages)

    def _assemble(
        self,
        block: Block,
        found: Codes,
        body: Body,
        rest: str,
        messages: list[tuple[str, list[str]]] | None,
    ) -> dict[str, Any]:
        cause = next((c["text"] for c in body.causes if "text" in c), None)
        data: dict[str, Any] = {
            "code": found.codes[0],
            "workload": self.workload,
            "also_codes": found.codes[1:],
            "numeric_codes": found.numeric,
        }
        messages = messages if messages is not None else found.messages
        data["messages"] = []
        for text, codes in messages:
            message = {"lang": self.lang, "text": text}
            if len(codes) == 1 and len(found.codes) > 1:
                message["code"] = codes[0]
            if message not in data["messages"]:
                data["messages"].append(message)
        if not data["messages"]:
            weak = {"lang": self.lang, "text": found.codes[0], "weak": True, "note": _NO_MESSAGE}
            data["messages"] = [weak]
        first = data["messages"][0]["text"]
        title = rest or (plain(block.title) if not messages else first) or first
        data["title"] = self.reader.text(title)
        data["summary"] = self.reader.text(next(iter(body.paras), None) or cause or rest or first)
        data["causes"] = [
            c if "section" in c else {"text": self.reader.text(c["text"])} for c in body.causes
        ]
        data["steps"] = [self.reader.step(s) for s in body.steps]
        data["notes"] = [self.reader.text(n) for n in body.notes]
        data["related"] = body.related
        data["docs"] = self.docs(block)
        order = ["code", "workload", "also_codes", "numeric_codes", "title", "messages"]
        data = {k: data[k] for k in [*order, *(k for k in data if k not in order)]}
        return {k: v for k, v in data.items() if v != []}

    def _details(self, body: Body, row: RowError) -> None:
        """A table's causes and actions into ``body``."""
        for cell in row.causes:
            items = [i for i in cell_items(cell) if i.kind == "item"] or [Item("para", cell)]
            for text in (plain(i.text) for i in items):
                if text and {"text": text} not in body.causes:
                    body.causes.append({"text": text})
        for cell in row.actions:
            more = self.reader.read(cell_items(cell), set(), loose=True)
            body.causes += [c for c in more.causes if c not in body.causes]
            body.steps += more.steps
            body.notes += more.notes
            body.related += more.related

    @staticmethod
    def _prefix(body: Body, inner: str) -> None:
        """Name the inner error code a section's causes and steps belong to."""
        for cause in body.causes:
            if "text" in cause:
                cause["text"] = f"{inner}: {cause['text']}"
        body.steps = [Step(f"{inner}: {s.text}", s.see) for s in body.steps]

    def section(self, i: int) -> dict[str, Any]:
        """A shared section's draft data."""
        block, body = self.blocks[i], self.reader.read(self._scope(i), set())
        title = plain(block.title) or self.sections[i]
        paras = [Step(p) for p in body.paras]
        steps = body.steps or paras[1:] or paras[:1] or [Step(title)]
        data: dict[str, Any] = {"id": self.sections[i], "title": self.reader.text(title)}
        if body.paras:
            data["summary"] = self.reader.text(body.paras[0])
        data["steps"] = [self.reader.step(s) for s in steps]
        if body.notes:
            data["notes"] = [self.reader.text(n) for n in body.notes]
        data["docs"] = self.docs(block)
        return data


__all__ = ["Article", "Tables", "merge"]
