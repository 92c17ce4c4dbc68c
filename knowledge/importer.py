"""``backup-fix kb import``: a Microsoft Docs troubleshooting article -> draft knowledge-base files.

Each error section (a heading with "Error code" lines, or with codes in the heading itself) becomes
an entry draft; each sub-section of "Causes and solutions" / "原因和解決方案", and every other
heading an error links to, becomes a section draft. The article's language fills its fields, the
other language gets a visible "TODO: translate:" placeholder, so every draft validates on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from knowledge.importer_md import (
    LABEL,
    LINK,
    Block,
    Item,
    article_id_of,
    ascii_anchor,
    codes_of,
    language,
    learn_slug,
    plain,
    section_id,
    split_blocks,
    split_front_matter,
    title_rest,
)
from knowledge.model import Lang

TODO = "TODO: translate: "

_CONTAINER = re.compile(r"causes and solutions|原因和解決方案", re.I)
_CAUSE = re.compile(r"^\**\s*(?:cause|原因)" + LABEL, re.I | re.S)
_STEP = re.compile(
    r"^\**\s*(?:step|步驟|recommended action|建議的動作|resolution)" + LABEL, re.I | re.S
)
_BOLD_LINK = re.compile(r"^\*\*\s*\[[^\]]*\]\(#[^)]*\)\s*\*\*")


@dataclass(frozen=True)
class Draft:
    """A draft knowledge-base file: an entry (named by its code) or a section (by its id)."""

    kind: Literal["entry", "section"]
    name: str
    data: dict[str, Any]

    def to_yaml(self) -> str:
        """The draft as the YAML file ``knowledge/data/entries|sections`` holds."""
        head = "# Draft imported from Microsoft Docs (CC BY 4.0): review, translate the TODOs.\n"
        return head + yaml.safe_dump(self.data, allow_unicode=True, sort_keys=False, width=100)


@dataclass
class _Step:
    text: str
    see: str | None = None


@dataclass
class _Body:
    causes: list[dict[str, str]] = field(default_factory=list)  # {"section": id} or {"text": ...}
    steps: list[_Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paras: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)


def parse_article(
    markdown: str, *, article_id: str | None = None, workload: str = "vm"
) -> list[Draft]:
    """Entry and section drafts from one article, entries first; [] when it documents no codes."""
    meta, body = split_front_matter(markdown)
    blocks = split_blocks(body)
    aid = article_id if article_id is not None else article_id_of(meta, blocks)
    if section_id(aid) != aid:
        raise ValueError(f"article id {aid!r} must match ^[a-z0-9][a-z0-9-]{{1,79}}$")
    return _Article(blocks, language(meta, body), aid, workload).drafts()


def write_drafts(drafts: Sequence[Draft], out_dir: Path, *, overwrite: bool = False) -> list[Path]:
    """Write entries/<workload>/<Code>.yaml and sections/<id>.yaml; never clobber."""
    paths = [
        out_dir / "entries" / d.data["workload"] / f"{d.name}.yaml"
        if d.kind == "entry"
        else out_dir / "sections" / f"{d.name}.yaml"
        for d in drafts
    ]
    for path in paths if not overwrite else []:
        if path.exists():  # checked for all files first, so a refusal writes nothing
            raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
    for draft, path in zip(drafts, paths, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(draft.to_yaml(), encoding="utf-8")
    return paths


def _merge(into: dict[str, Any], data: dict[str, Any]) -> None:
    """Fold a second section about the same code into the first (the docs repeat some)."""
    codes = [data["code"], *data.get("also_codes", [])]
    also = [c for c in [*into.get("also_codes", []), *codes] if c != into["code"]]
    into["also_codes"] = list(dict.fromkeys(also))
    for key in ("numeric_codes", "messages", "causes", "steps", "notes", "related", "docs"):
        values = into.setdefault(key, [])
        values += [v for v in data.get(key, []) if v not in values]
    for key in [k for k, v in into.items() if v == []]:
        del into[key]


class _Article:
    def __init__(self, blocks: list[Block], lang: Lang, article_id: str, workload: str) -> None:
        self.blocks, self.lang, self.article_id = blocks, lang, article_id
        self.workload = workload
        self.codes = {
            i: c for i, b in enumerate(blocks) if b.level >= 2 and (c := codes_of(b)).codes
        }
        self.anchors: dict[str, int] = {}
        for i, block in enumerate(blocks):
            for anchor in [*block.anchors, learn_slug(block.title)]:
                self.anchors.setdefault(anchor.casefold(), i)
        urls = [m.group(2) for b in blocks for it in b.items for m in LINK.finditer(it.text)]
        linked = [u[1:] for u in urls if u.startswith("#") and len(u) > 1]
        self.sections = self._find_sections(linked, {a.casefold() for a in linked})

    def _find_sections(self, linked: list[str], linked_set: set[str]) -> dict[int, str]:
        targets = {self.anchors.get(a.casefold()) for a in linked}
        ids: dict[int, str] = {}
        for i, block in enumerate(self.blocks):
            parent = next(
                (p for p in range(i - 1, -1, -1) if self.blocks[p].level < block.level), 0
            )
            nested = bool(_CONTAINER.search(self.blocks[parent].title)) and parent > 0
            wrapper = i + 1 < len(self.blocks) and i + 1 in self.codes
            if block.level < 2 or i in self.codes or _CONTAINER.search(block.title) or wrapper:
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

    def drafts(self) -> list[Draft]:
        entries: dict[str, dict[str, Any]] = {}
        owner: dict[str, str] = {}
        for i in self.codes:
            data = self._entry(i)
            codes = [data["code"], *data.get("also_codes", [])]
            key = next((owner[c.casefold()] for c in codes if c.casefold() in owner), None)
            if key is None:
                key = data["code"]
                entries[key] = data
            else:
                _merge(entries[key], data)
            owner.update({c.casefold(): key for c in codes})
        if not entries:
            return []
        for data in entries.values():
            own = {c.casefold() for c in [data["code"], *data.get("also_codes", [])]}
            related = [owner[c.casefold()] for c in data.pop("related", [])]
            if related := [c for c in dict.fromkeys(related) if c.casefold() not in own]:
                data["related"] = related
        drafts = [Draft("entry", code, data) for code, data in entries.items()]
        return drafts + [
            Draft("section", sid, self._section(i)) for i, sid in self.sections.items()
        ]

    def _text(self, text: str) -> dict[str, str]:
        other = "zh-TW" if self.lang == "en" else "en"
        return {self.lang: text, other: TODO + text}

    def _scope(self, i: int) -> list[Item]:
        """The block's items and those of its sub-headings that are neither errors nor sections."""
        items = list(self.blocks[i].items)
        for j in range(i + 1, len(self.blocks)):
            if (
                self.blocks[j].level <= self.blocks[i].level
                or j in self.codes
                or j in self.sections
            ):
                break
            items += self.blocks[j].items
        return items

    def _docs(self, block: Block) -> list[dict[str, str]]:
        anchor = next((a for a in map(ascii_anchor, block.anchors) if a), "")
        return [
            {"article": self.article_id, "anchor": anchor or ascii_anchor(learn_slug(block.title))}
        ]

    def _entry(self, i: int) -> dict[str, Any]:
        block, found = self.blocks[i], self.codes[i]
        body = self._body(self._scope(i), found.header)
        rest = title_rest(block.title, found.codes, found.numeric)
        cause = next((c["text"] for c in body.causes if "text" in c), None)
        messages = found.messages or [(rest or cause or found.codes[0], [])]
        data: dict[str, Any] = {
            "code": found.codes[0],
            "workload": self.workload,
            "also_codes": found.codes[1:],
        }
        data["numeric_codes"] = found.numeric
        data["title"] = self._text(rest or messages[0][0])
        data["messages"] = []
        for text, codes in messages:
            message = {"lang": self.lang, "text": text}
            if len(codes) == 1 and len(found.codes) > 1:
                message["code"] = codes[0]
            if message not in data["messages"]:
                data["messages"].append(message)
        data["summary"] = self._text(
            next(iter(body.paras), None) or cause or rest or messages[0][0]
        )
        data["causes"] = [
            c if "section" in c else {"text": self._text(c["text"])} for c in body.causes
        ]
        data["steps"] = [self._step(s) for s in body.steps]
        data["notes"] = [self._text(n) for n in body.notes]
        data["related"] = body.related
        data["docs"] = self._docs(block)
        return {k: v for k, v in data.items() if v != []}

    def _section(self, i: int) -> dict[str, Any]:
        block, body = self.blocks[i], self._body(self._scope(i), set())
        title = plain(block.title) or self.sections[i]
        paras = [_Step(p) for p in body.paras]
        steps = body.steps or paras[1:] or paras[:1] or [_Step(title)]
        data: dict[str, Any] = {"id": self.sections[i], "title": self._text(title)}
        if body.paras:
            data["summary"] = self._text(body.paras[0])
        data["steps"] = [self._step(s) for s in steps]
        if body.notes:
            data["notes"] = [self._text(n) for n in body.notes]
        data["docs"] = self._docs(block)
        return data

    def _step(self, step: _Step) -> dict[str, Any]:
        return {"text": self._text(step.text), **({"see": step.see} if step.see else {})}

    def _body(self, items: list[Item], header: set[int]) -> _Body:
        """Causes, steps, notes and paragraphs, in the article's order."""
        body, fold = _Body(), None  # fold: depth of a "...:" step that takes its sub-items
        for n, item in enumerate(items):
            if n in header:
                continue
            if item.kind == "note" and (note := plain(item.text)):
                body.notes.append(note)
            elif item.kind == "row":
                cells = [c for c in map(plain, item.cells) if c and c.casefold() != "none"]
                if cells:  # a "cause | solution" row reads as "cause: solution"
                    joined = cells[0] + ("" if cells[0][-1] in ".:。：" or len(cells) == 1 else ":")
                    self._add_step(body, " ".join([joined, *cells[1:]]), " ".join(item.cells))
            elif item.kind == "item" and fold is not None and item.depth > fold and body.steps:
                body.steps[-1].text += " " + plain(item.text)
            elif item.kind == "item":
                step = None if self._cause(body, item.text) else self._add_step(body, item.text)
                fold = item.depth if step and step.text.endswith((":", "：")) else None
            elif item.kind == "para":
                self._paragraph(body, item.text)
        return body

    def _paragraph(self, body: _Body, text: str) -> None:
        rest: list[str] = []
        step: _Step | None = None
        pending = False  # "Recommended action:" alone on its line: the next line is the step
        for line in text.split("\n"):
            if self._cause(body, line):
                step, pending = None, False
            elif m := _STEP.match(line.strip()):
                step = self._add_step(body, m.group(1), line)
                pending = step is None
            elif pending or step is not None:
                if step is None:
                    step, pending = self._add_step(body, line), False
                elif extra := plain(line):
                    step.text += " " + extra
            else:
                rest.append(line)
        if paragraph := plain("\n".join(rest)):
            body.paras.append(paragraph)

    def _cause(self, body: _Body, raw: str) -> bool:
        m = _CAUSE.match(raw.strip())
        if m is None and not _BOLD_LINK.match(raw.strip()):
            return False
        sid, _ = self._targets(raw)
        if sid is not None:
            cause = {"section": sid}
        elif m is not None and (text := plain(m.group(1))):
            cause = {"text": text}
        else:
            return False
        if cause not in body.causes:
            body.causes.append(cause)
        return True

    def _add_step(self, body: _Body, text: str, raw: str | None = None) -> _Step | None:
        if not (plain_text := plain(text)):
            return None
        see, related = self._targets(raw or text)
        body.related += related
        body.steps.append(step := _Step(plain_text, see))
        return step

    def _targets(self, raw: str) -> tuple[str | None, list[str]]:
        """The first section ``raw`` links to, and the codes of the errors it links to."""
        sections, codes = [], []
        for m in LINK.finditer(raw):
            i = self.anchors.get(m.group(2)[1:].casefold()) if m.group(2).startswith("#") else None
            if i in self.sections:
                sections.append(self.sections[i])
            elif i in self.codes:
                codes.append(self.codes[i].codes[0])
        return next(iter(sections), None), codes
