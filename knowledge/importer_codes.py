"""Where a troubleshooting article states its error codes, for ``kb import``.

An error section names its codes on "Error code:" lines (bold or not, several per line, a code
written with spaces), in its heading ("UserErrorFoo - message", "Error code: UserErrorFoo",
"A / 123, B"), as labelled ids inside a message ("(ID: 34513)", "Error 34506", "[0x1FC07]") or,
where the article has nothing better, in prose ("If you get the error **UserErrorFoo**", "one of
the following error codes: **A, B**"). "Inner error code:" lines name a cause, not the error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.importer_md import BR, Block, plain

LABEL = r"\s*\d*\s*\**\s*[:：︰]\s*\**\s*(.*)$"
_CODE_LINE = re.compile(r"^\**\s*(?:error code|錯誤碼)" + LABEL, re.I)
# "**Error message** - text" as well as "Error message: text".
_MESSAGE_LINE = re.compile(
    r"^\**\s*(?:error message|錯誤訊息)(?:\s*\**\s+-\s+(.*)$|" + LABEL + ")", re.I
)
_INNER_LINE = re.compile(r"^\**\s*inner error code" + LABEL, re.I)
_TOKEN = re.compile(r"0x[0-9A-Fa-f]+|\d+|[A-Za-z][A-Za-z0-9]*")
_HEX = re.compile(r"0x[0-9A-Fa-f]{4,8}")
_NAMED = re.compile(r"[A-Za-z][A-Za-z0-9]{3,99}")
_CODE = r"(?:\d+\s*,\s*)?[A-Za-z][A-Za-z0-9]{3,99}"
_HEADING_CODES = re.compile(rf"^({_CODE}(?:\s*/\s*{_CODE})*)\s*(?:[-:：]|$)")
_HEADING_LABEL = re.compile(r"^\s*(?:error code|錯誤碼)\s*[:：]\s*", re.I)
# "UserErrorFooRunning UserError": one code that the heading split with a stray space.
_SPLIT_HEADING = re.compile(r"^([A-Za-z][A-Za-z0-9]+) ([A-Z][A-Za-z0-9]+)$")
_LIST_SPLIT = re.compile(r"[,/]|\bor\b|\band\b")
# Ids a message carries: "(ID: 34513)", "(ID 33621)", "Error ID: 2013", "ID: 120002",
# "Error 34506", "Vault Credentials Error: 100110", "[0x1FC07]", "error 0x800423f2",
# "ErrorCode - FileFaultFault".
_NUMERIC_ID = re.compile(r"(?:\(\s*ID\s*:?\s*|\bID\s*:\s*|\bError\s*:?\s*)(\d{3,9})\b", re.I)
_HEX_ID = re.compile(r"(?:\[|\berror\s+)(0x[0-9A-Fa-f]{4,8})\b", re.I)
_NAMED_ID = re.compile(r"\bErrorCode\s*[-:]\s*([A-Za-z][A-Za-z0-9]{3,99})\b")
_PROSE_ONE = re.compile(r"\b(?:the|this) error\s+\*\*(.+?)\*\*", re.I)
_PROSE_LIST = re.compile(r"\berror codes?\s*:\s*(.+?)(?:\.\s|\.?$)", re.I | re.S)
_CODE_MESSAGE = re.compile(r"^(\S+?)\s*(?:[:：]\s*(.*))?$", re.S)


@dataclass
class Codes:
    """The codes, numeric codes and messages an error section states."""

    codes: list[str] = field(default_factory=list)
    numeric: list[int] = field(default_factory=list)
    messages: list[tuple[str, list[str]]] = field(default_factory=list)  # text, its line's codes
    header: set[int] = field(default_factory=set)  # paragraphs holding code/message lines
    inner: list[str] = field(default_factory=list)  # "Inner error code" lines


def is_code(token: str) -> bool:
    """A hexadecimal code, or a name that reads as one: CamelCase, not a capitalised word."""
    if _HEX.fullmatch(token):
        return True
    return bool(_NAMED.fullmatch(token) and re.search(r"[a-z][A-Z]|[A-Z]{2}[a-z]", token))


def is_numeric_id(token: str) -> bool:
    """A numeric error id as the knowledge base takes them (3-9 digits): "Cause 1" names none."""
    return token.isdigit() and 3 <= len(token) <= 9


def parse_codes(value: str) -> tuple[list[str], list[int]]:
    """The codes and numeric ids of an "Error code:" value ("320001, ResourceNotFound", ...)."""
    codes: list[str] = []
    numeric: list[int] = []
    for piece in _LIST_SPLIT.split(plain(value)):
        tokens = _TOKEN.findall(piece)
        numeric += [int(t) for t in tokens if is_numeric_id(t)]
        named = [t for t in tokens if is_code(t)]
        words = [t for t in tokens if t.isalpha()]
        if len(words) > 1 and len(named) < len(words) and len(words) == len(tokens):
            # "File Sync PreRestoreFailed", "Cannot connect to CBEngine": one code with spaces.
            joined = "".join(w[0].upper() + w[1:] for w in words)
            named = [joined] if _NAMED.fullmatch(joined) else []
        codes += [c for c in named if c not in codes]
    return codes, list(dict.fromkeys(numeric))


def ids_in(text: str) -> tuple[list[str], list[int]]:
    """The codes and numeric ids a message labels as its own ("(ID: 34513)", "[0x1FC07]")."""
    named = [m.group(1) for m in _NAMED_ID.finditer(text) if is_code(m.group(1))]
    codes = [*named, *(m.group(1) for m in _HEX_ID.finditer(text))]
    numeric = [int(m.group(1)) for m in _NUMERIC_ID.finditer(text)]
    return list(dict.fromkeys(codes)), list(dict.fromkeys(numeric))


def codes_of(block: Block) -> Codes:
    """The codes of an error section: its "Error code" lines, else codes opening its heading."""
    found = Codes()
    last: list[str] = []
    for n, item in enumerate(block.items):
        segments = BR.split(item.text.replace("\n", "<br>")) if item.kind == "para" else []
        for segment in (s.strip() for s in segments if s.strip() not in item.fenced):
            if m := _CODE_LINE.match(segment):
                last, numeric = parse_codes(m.group(1))
                found.numeric += numeric
                found.codes += [c for c in last if c not in found.codes]
                found.header.add(n)
            elif m := _MESSAGE_LINE.match(segment):
                if text := plain(m.group(1) or m.group(2) or ""):
                    found.messages.append((text, last))
                found.header.add(n)
            elif m := _INNER_LINE.match(segment):
                found.inner += [c for c in parse_codes(m.group(1))[0] if c not in found.inner]
                found.header.add(n)
    heading = heading_codes(block.title)
    if not found.codes:
        found.codes, found.numeric = heading[0], heading[1] or found.numeric
    elif heading[0] and not set(heading[0]) & set(found.codes):
        found.codes += heading[0]  # the heading names the error otherwise than its code line
    if not found.codes and not found.numeric:
        for text, _ in found.messages:  # "Error message: ... (ID: 34513)"
            codes, numeric = ids_in(text)
            found.codes, found.numeric = found.codes + codes, found.numeric + numeric
    found.numeric = list(dict.fromkeys(found.numeric))
    if not found.codes:  # an id alone is the error's code, as the knowledge base has it
        found.codes = [str(n) for n in found.numeric]
    return found


def heading_codes(title: str) -> tuple[list[str], list[int]]:
    """Codes opening a heading ("320001, ResourceNotFound - ...", "Error code: UserErrorFoo")."""
    text = _HEADING_LABEL.sub("", plain(title))
    m = _SPLIT_HEADING.match(text)
    if m and is_code(m.group(1)) and is_code(m.group(2)) and is_code(text.replace(" ", "")):
        return [text.replace(" ", "")], []
    if (m := _HEADING_CODES.match(text)) is None:
        return [], []
    tokens = _TOKEN.findall(m.group(1))
    # A code names an error when it is CamelCase: "Networking" or "Jobs" are plain headings.
    codes = [t for t in tokens if not t.isdigit() and re.search(r"[a-z][A-Z]", t)]
    return codes, [int(t) for t in tokens if is_numeric_id(t)] if codes else []


def prose_codes(markdown: str) -> list[tuple[list[str], str | None]]:
    """Codes named in a sentence: "the error **Code**", "the error **0x8007: message**",
    "fail with one of the following error codes: **A**, **B**"; each with its message if given.
    """
    found: list[tuple[list[str], str | None]] = []
    for m in _PROSE_ONE.finditer(markdown):
        if (cm := _CODE_MESSAGE.match(plain(m.group(1)))) and is_code(cm.group(1)):
            found.append(([cm.group(1)], plain(cm.group(2) or "") or None))
    for m in _PROSE_LIST.finditer(markdown):
        if "**" not in m.group(1) and "`" not in m.group(1):
            continue  # a code list is set off as code or bold, not plain words
        pieces = [p.strip() for p in plain(m.group(1)).split(",")]
        if pieces and all(is_code(p) for p in pieces):
            found.append((pieces, None))
    return found


def title_rest(title: str, codes: list[str], numeric: list[int]) -> str:
    """The heading after its codes ("320001, ResourceNotFound - X / 400094, ..." -> "X")."""
    names = sorted([*codes, *map(str, numeric)], key=len, reverse=True)
    alt = "|".join(re.escape(n) for n in names)
    text = _HEADING_LABEL.sub("", plain(title))
    m = re.match(rf"^(?:\s*(?:{alt})\b\s*[,/]?)+\s*(?:[-–:：]\s*)?", text, re.I)
    rest = text[m.end() :] if m else text
    if more := re.search(rf"\s+/\s+(?:\d+\s*,\s*)?(?:{alt})\b", rest, re.I):
        rest = rest[: more.start()]
    if re.sub(r"\s", "", rest).casefold() in {c.casefold() for c in codes}:
        return ""  # a code split by a stray space, as in "...TrustedLaunchVM ToNonTrusted..."
    return rest.strip()
