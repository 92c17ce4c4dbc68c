"""Tables in troubleshooting articles, for ``kb import``.

Three layouts carry errors:

* a row per error, its codes in a code column or labelled inside a cell: ``| Error | Possible
  causes | Recommended actions |`` with "(ID: 34513)" (MARS), ``| Operation | Error details |
  Workaround |`` with "**Error code**: X" or "[0x29834]" (MABS), ``| Error code | Reasons |
  Recommendations |``, ``| Symptom | Cause | Resolution |`` with "error 0x800423f2";
* under a heading that names the code, a one-row ``| Error message | Possible causes |
  Recommended action |`` table: the details of that heading's error (SQL, MARS);
* the same turned on its side: ``| **Error message** | text |`` over ``| **Possible causes** |
  ... |`` rows (SAP HANA).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.importer_codes import LABEL, Codes, ids_in, parse_codes
from knowledge.importer_md import BR, Item, parse_items, plain

_ROLES = [
    ("code", re.compile(r"^error codes?$", re.I)),
    ("message", re.compile(r"^(?:error (?:messages?|details)|errors?|symptoms?|reasons?)$", re.I)),
    ("cause", re.compile(r"^(?:possible |root )?causes?$", re.I)),
    (
        "action",
        re.compile(
            r"^(?:recommended actions?|recommendations?|workaround|resolution|solution)$", re.I
        ),
    ),
]
_CODE_LABEL = re.compile(r"^\**\s*error code" + LABEL, re.I)
_MESSAGE_LABEL = re.compile(r"^\**\s*error message" + LABEL, re.I)
_QUOTED = re.compile(r"\"([^\"]{8,})\"")
_LIST_TAG = re.compile(r"<li\b[^>]*>", re.I)
_BLOCK_TAG = re.compile(r"</li>|</?[uo]l\b[^>]*>", re.I)


@dataclass
class RowError:
    """An error a table states: codes and messages, and the Markdown of its causes and actions."""

    found: Codes = field(default_factory=Codes)
    causes: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    rows: list[Item] = field(default_factory=list)  # the table rows it was read from


@dataclass
class Tables:
    """A block's tables: an error per row that names codes, and the block's own error details."""

    rows: list[RowError] = field(default_factory=list)
    detail: RowError | None = None

    @property
    def used(self) -> list[Item]:
        """The rows read here, which are no "cause | solution" steps."""
        return [r for e in [*self.rows, self.detail] if e is not None for r in e.rows]


def read_tables(items: list[Item], *, has_codes: bool) -> Tables:
    """The errors in a block's tables; ``has_codes``: the block's heading or lines name one."""
    found = Tables()
    for table in _tables(items):
        roles = [_role(h) for h in table[0].header]
        if roles == ["message", ""] and all(len(r.cells) >= 2 and _role(r.cells[0]) for r in table):
            head = Item("row", cells=table[0].header)
            found.detail = found.detail or _transposed([head, *table])
            continue
        if "message" not in roles and "code" not in roles:
            continue
        errors = [(row, _row(row, roles)) for row in table]
        found.rows += [e for _, e in errors if e.found.codes or e.found.numeric]
        plain_rows = [e for _, e in errors if not (e.found.codes or e.found.numeric)]
        if has_codes and len(table) == 1 and plain_rows and found.detail is None:
            found.detail = plain_rows[0]
    for error in found.rows:
        if not error.found.codes:  # an id alone is the error's code, as the knowledge base has it
            error.found.codes = [str(n) for n in error.found.numeric]
    return found


def cell_items(cell: str) -> list[Item]:
    """A cell's Markdown as items: ``<br>`` breaks lines, ``<li>`` opens a list item."""
    text = _BLOCK_TAG.sub("\n", _LIST_TAG.sub("\n- ", BR.sub("\n", cell)))
    return parse_items([line.strip() for line in text.split("\n")])


def _tables(items: list[Item]) -> list[list[Item]]:
    tables: list[list[Item]] = []
    for n, item in enumerate(items):
        if item.kind != "row":
            continue
        if n and items[n - 1].kind == "row" and items[n - 1].header is item.header and tables:
            tables[-1].append(item)
        else:
            tables.append([item])
    return [t for t in tables if t[0].header]


def _role(header: str) -> str:
    text = plain(header).strip().rstrip(":")
    return next((role for role, pattern in _ROLES if pattern.search(text)), "")


def _transposed(rows: list[Item]) -> RowError:
    error = RowError(rows=rows[1:])
    for row in rows:
        role, value = _role(row.cells[0]), " <br> ".join(row.cells[1:])
        if role == "message" and (text := plain(value)):
            error.found.messages.append((text, []))
            error.found.codes, error.found.numeric = ids_in(text)
        elif role in ("cause", "action"):
            (error.causes if role == "cause" else error.actions).append(value)
    return error


def _row(row: Item, roles: list[str]) -> RowError:
    error, cells = RowError(rows=[row]), row.cells
    found = error.found
    for cell, role in zip(cells, roles, strict=False):
        if role == "code":
            codes, numeric = parse_codes(cell)
            found.codes += codes
            found.numeric += numeric
        labelled = [s.strip() for s in BR.split(cell)]
        for segment in labelled:
            if m := _CODE_LABEL.match(segment):
                codes, numeric = parse_codes(m.group(1))
                found.codes, found.numeric = found.codes + codes, found.numeric + numeric
            elif (m := _MESSAGE_LABEL.match(segment)) and (text := plain(m.group(1))):
                found.messages.append((text, []))
        codes, numeric = ids_in(plain(cell))
        found.codes += codes
        found.numeric += numeric
        if role == "cause":
            error.causes.append(cell)
        elif role == "action":
            error.actions.append(cell)
    found.codes = list(dict.fromkeys(found.codes))
    found.numeric = list(dict.fromkeys(found.numeric))
    message = next((c for c, r in zip(cells, roles, strict=False) if r == "message"), "")
    if not found.messages and (texts := _messages(message, found)):
        found.messages = [(t, []) for t in texts]
    return error


def _messages(cell: str, found: Codes) -> list[str]:
    """The message in a cell; where it lists several, the one holding the row's id first."""
    names = [*found.codes, *map(str, found.numeric)]
    pieces = [plain(i.text) for i in cell_items(cell)] or [plain(cell)]
    mine = [p for p in pieces if any(n in p for n in names)] or [plain(cell)]
    quoted = [q for p in pieces for q in _QUOTED.findall(p)]
    own = [q for q in quoted if any(n in q for n in names)]
    if own:  # 'error log: "A VSS writer has rejected an event with error 0x800423f2, ..."'
        return [*own, *(q for q in quoted if q not in own)]
    return [t for t in mine[:1] if t]
