"""Reading an error's or a section's body for ``kb import``: causes, steps, notes and paragraphs.

"Cause:" and "Recommended action:" labels (alone on their line or leading it), list items,
"cause | solution" table rows, notes and plain paragraphs, in the article's order; links into the
article become ``see`` (a section) or ``related`` (another error). The article's language fills
each text, the other language gets a visible "TODO: translate:" placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.importer_codes import LABEL
from knowledge.importer_md import LINK, Item, plain
from knowledge.model import Lang

TODO = "TODO: translate: "

_CAUSE = re.compile(r"^\**\s*(?:(?:possible |root )?cause|原因)" + LABEL, re.I | re.S)
_STEP = re.compile(
    r"^\**\s*(?:step|步驟|recommended action|建議的動作|resolution)" + LABEL, re.I | re.S
)
_BOLD_LINK = re.compile(r"^\*\*\s*\[[^\]]*\]\(#[^)]*\)\s*\*\*")


@dataclass
class Step:
    """A step's plain text and the section it points at."""

    text: str
    see: str | None = None


@dataclass
class Body:
    """What a body says; ``loose``: its plain paragraphs are steps too (a table's action cell)."""

    causes: list[dict[str, str]] = field(default_factory=list)  # {"section": id} or {"text": ...}
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paras: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    loose: bool = False
    in_cause: bool = False  # after a "Cause:" label alone on its line


class BodyReader:
    """Reads bodies of one article: knows its language, its sections and its errors' anchors."""

    def __init__(
        self, lang: Lang, anchors: dict[str, int], sections: dict[int, str], errors: dict[int, str]
    ) -> None:
        self.lang, self.anchors, self.sections, self.errors = lang, anchors, sections, errors

    def text(self, text: str) -> dict[str, str]:
        """``text`` in the article's language, a TODO placeholder in the other."""
        other = "zh-TW" if self.lang == "en" else "en"
        return {self.lang: text, other: TODO + text}

    def step(self, step: Step) -> dict[str, Any]:
        """A step as the knowledge base writes it."""
        return {"text": self.text(step.text), **({"see": step.see} if step.see else {})}

    def read(
        self, items: list[Item], header: set[int], *, skip: Sequence[Item] = (), loose: bool = False
    ) -> Body:
        """Causes, steps, notes and paragraphs, in the article's order."""
        body, fold = Body(loose=loose), None  # fold: depth of a "...:" step taking its sub-items
        for n, item in enumerate(items):
            if n in header or any(item is s for s in skip):
                continue
            if item.kind == "note" and (note := plain(item.text)):
                body.notes.append(note)
            elif item.kind == "row":
                cells = [c for c in map(plain, item.cells) if c and c.casefold() != "none"]
                if cells:  # a "cause | solution" row reads as "cause: solution"
                    joined = cells[0] + ("" if cells[0][-1] in ".:。：" or len(cells) == 1 else ":")
                    self.add_step(body, " ".join([joined, *cells[1:]]), " ".join(item.cells))
            elif item.kind == "item" and fold is not None and item.depth > fold and body.steps:
                body.steps[-1].text += " " + plain(item.text)
            elif item.kind == "item":
                step = None if self.cause(body, item.text) else self.add_step(body, item.text)
                fold = item.depth if step and step.text.endswith((":", "：")) else None
            elif item.kind == "para":
                self._paragraph(body, item.text)
        return body

    def _paragraph(self, body: Body, text: str) -> None:
        rest: list[str] = []
        step: Step | None = None
        pending = False  # "Recommended action:" alone on its line: the next line is the step
        for line in text.split("\n"):
            label = _CAUSE.match(line.strip())
            if label and not plain(label.group(1)) and not _BOLD_LINK.match(line.strip()):
                step, pending, body.in_cause = None, False, True
            elif self.cause(body, line):
                step, pending, body.in_cause = None, False, False
            elif m := _STEP.match(line.strip()):
                step = self.add_step(body, m.group(1), line)
                pending, body.in_cause = step is None, False
            elif pending or step is not None:
                if step is None:
                    step, pending = self.add_step(body, line), False
                elif extra := plain(line):
                    step.text += " " + extra
            elif body.in_cause and (cause := plain(line)):
                body.causes.append({"text": cause})
            else:
                rest.append(line)
        if body.loose and rest:
            self.add_step(body, "\n".join(rest))
        elif paragraph := plain("\n".join(rest)):
            body.paras.append(paragraph)

    def cause(self, body: Body, raw: str) -> bool:
        """Take ``raw`` as a cause if it is one ("Cause 1: ...", a bold link to a section)."""
        m = _CAUSE.match(raw.strip())
        if m is None and not _BOLD_LINK.match(raw.strip()):
            return False
        sid, _ = self.targets(raw)
        if sid is not None:
            cause = {"section": sid}
        elif m is not None and (text := plain(m.group(1))):
            cause = {"text": text}
        else:
            return False
        if cause not in body.causes:
            body.causes.append(cause)
        return True

    def add_step(self, body: Body, text: str, raw: str | None = None) -> Step | None:
        """Append ``text`` as a step (``raw``: the Markdown its links are read from)."""
        if not (plain_text := plain(text)):
            return None
        see, related = self.targets(raw or text)
        body.related += related
        body.steps.append(step := Step(plain_text, see))
        return step

    def targets(self, raw: str) -> tuple[str | None, list[str]]:
        """The first section ``raw`` links to, and the codes of the errors it links to."""
        sections, codes = [], []
        for m in LINK.finditer(raw):
            i = self.anchors.get(m.group(2)[1:].casefold()) if m.group(2).startswith("#") else None
            if i in self.sections:
                sections.append(self.sections[i])
            elif i in self.errors:
                codes.append(self.errors[i])
        return next(iter(sections), None), codes
