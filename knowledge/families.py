"""Families of Azure Backup error codes: a useful answer for a code nobody has explained yet.

``data/families.yaml`` says what a code's prefix or shape tells (``UserError…``, ``BMSUserError…``,
``Cloud…``, ``Dpp…``, MARS ``Sal…``, numeric ids, ...). ``family_answer`` adds what the paste itself
shows next to the code: the service's own message and the operation it came from. Pure; bounded in
time and size whatever the paste holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from knowledge.errors import KnowledgeBaseError
from knowledge.loader import DATA_DIR, _read
from knowledge.model import Lang, SectionId, Text

FAMILIES_PATH = DATA_DIR / "families.yaml"
MAX_MESSAGE = 500  # characters of the service's message quoted back
MAX_OPERATION = 60
MAX_ANSWERS = 3  # family answers to one paste
SEARCH_URL = "https://learn.microsoft.com/{locale}/search/?terms={terms}"
_LOCALE: dict[Lang, str] = {"en": "en-us", "zh-TW": "zh-tw"}

Prefix = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]{1,49}$")]


class Family(BaseModel):
    """A family of codes: chosen by prefixes, by a pattern, or the fallback; what it means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: SectionId
    prefixes: list[Prefix] = Field(default_factory=list)
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    fallback: bool = False
    title: Text
    explanation: Text
    steps: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_rule(self) -> Family:
        rules = [bool(self.prefixes), self.pattern is not None, self.fallback]
        if sum(rules) != 1:
            raise ValueError("a family needs exactly one of 'prefixes', 'pattern' or 'fallback'")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"'pattern' is not a regular expression: {exc}") from exc
        return self


@dataclass(frozen=True)
class Families:
    """Every family, validated; ``get`` picks the one a code belongs to."""

    families: tuple[Family, ...]

    def get(self, code: str) -> Family:
        """The family of ``code``: longest matching prefix, else a pattern, else the fallback."""
        folded = code.casefold()
        best: tuple[int, Family] | None = None
        for family in self.families:
            for prefix in family.prefixes:
                if folded.startswith(prefix.casefold()) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), family)
        if best is not None:
            return best[1]
        for family in self.families:
            if family.pattern is not None and re.fullmatch(family.pattern, code, re.IGNORECASE):
                return family
        return next(f for f in self.families if f.fallback)


def load_families(path: Path | str | None = None) -> Families:
    """Read and validate ``families.yaml``; a defect names the file, the family and the field."""
    path = Path(path) if path is not None else FAMILIES_PATH
    data: Any = _read(path)
    items = data.get("families") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise KnowledgeBaseError(path, None, "families", "must be a non-empty list")
    found: list[Family] = []
    ids: set[str] = set()
    prefixes: dict[str, str] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise KnowledgeBaseError(path, None, f"families.{i}", "must be a mapping")
        family = _validate(item, path)
        if family.id in ids:
            raise KnowledgeBaseError(path, family.id, "id", "is used by another family")
        ids.add(family.id)
        for j, prefix in enumerate(family.prefixes):
            other = prefixes.setdefault(prefix.casefold(), family.id)
            if other != family.id:
                where = f"prefixes.{j}"
                raise KnowledgeBaseError(path, family.id, where, f"{prefix!r} is also in {other}")
        found.append(family)
    if sum(f.fallback for f in found) != 1:
        raise KnowledgeBaseError(path, None, "families", "needs exactly one 'fallback' family")
    return Families(tuple(found))


def _validate(item: dict[str, Any], path: Path) -> Family:
    try:
        return Family.model_validate(item)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or None
        name = str(item["id"]) if item.get("id") is not None else None
        raise KnowledgeBaseError(path, name, where, err["msg"]) from exc


@cache
def default_families() -> Families:
    """The shipped families, loaded once."""
    return load_families()


@dataclass(frozen=True, slots=True)
class FamilyAnswer:
    """What the bot can say about a code it does not know: its family and the paste's words."""

    code: str
    family: Family
    message: str | None  # the service's own message next to the code, cleaned and bounded
    operation: str | None  # the operation the paste shows (Backup, ConfigureBackup, a command)

    def search_url(self, lang: Lang) -> str:
        """A Microsoft Learn search for the code, in the reader's language."""
        return SEARCH_URL.format(locale=_LOCALE[lang], terms=quote(self.code, safe=""))


def family_answer(code: str, paste: str, *, families: Families | None = None) -> FamilyAnswer:
    """The family of ``code`` and what ``paste`` shows beside it (message, operation)."""
    code = code.strip()[:100]
    text = paste[:_MAX_SCAN]
    family = (families or default_families()).get(code)
    return FamilyAnswer(code, family, _message(code, text), _operation(text))


def family_answers(
    codes: Sequence[str], paste: str, *, limit: int = MAX_ANSWERS, families: Families | None = None
) -> list[FamilyAnswer]:
    """One answer per distinct code (case-insensitive), in order, at most ``limit``."""
    seen: set[str] = set()
    out: list[FamilyAnswer] = []
    for code in codes:
        if code.strip() and code.casefold() not in seen and len(out) < limit:
            seen.add(code.casefold())
            out.append(family_answer(code, paste, families=families))
    return out


# --- What the paste says next to the code -------------------------------------------------------

_MAX_SCAN = 64 * 1024  # what the matcher reads of a paste
_AFTER, _BEFORE, _OCCURRENCES = 1200, 400, 10
_MSG_KEY = r"(?:error[ _]?string|error[ _]?message|detailed[ _]?message|message)"
# Runs of blanks are possessive (*+): a paste of a million tabs must not make a regex backtrack.
# A string longer than 4,000 characters is read up to there (and shortened later).
_JSON_MSG = re.compile(rf'"{_MSG_KEY}"\s*+:\s*+"((?:[^"\\\n]|\\.){{1,4000}})', re.IGNORECASE)
_INLINE_MSG = re.compile(r'\bMessage\s*+=\s*+"((?:[^"\\\n]|\\.){1,4000})', re.IGNORECASE)
_SEP = r"(?:[ \t*]*+[:|=]|\t)[ \t:|=]*+"  # "Message: x", "Message | x", "Message\tx", 'Message="x"'
_LINE_MSG = re.compile(rf"(?im)^[ \t>*_|]*+(?:error[ \t]*+)?message{_SEP}(\S[^\n]{{0,4000}})")
_LABEL_MSG = re.compile(
    r"(?im)^[ \t>*_|]*+(?:error[ \t]*+)?message[ \t*:]*+\n[ \t>]*+(\S[^\n]{0,4000})"
)
_CODE_KEY = re.compile(r"(?i)[\"']?\b(?:error[ _]?)?code[\"']?[ \t*]*+[:=|]")
_KEY_AT_END = re.compile(r"(?i)[\"']?\b\w*code[\"']?\s*+[:=|]?\s*+[\"'(]?\s*+$")
# Control characters (terminal escapes), zero-width and bidirectional marks, line separators.
_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")
_ESCAPES = {"n": " ", "r": " ", "t": " ", '"': '"', "\\": "\\", "/": "/"}


def _message(code: str, text: str) -> str | None:
    at = re.compile(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![A-Za-z0-9])", re.IGNORECASE)
    for n, hit in enumerate(at.finditer(text)):
        if n >= _OCCURRENCES:
            break
        start, end = hit.span()
        if text[start - 1 : start] == "(" and text[end : end + 1] == ")":  # az CLI: (Code) message
            found = re.match(r"\)[ \t]*+(\S[^\n]{0,4000})", text[end : end + 4100])
            if found and (msg := _clean(found[1], code)):
                return msg
        after = text[end : end + _AFTER]
        if (stop := _CODE_KEY.search(after)) is not None:
            after = after[: stop.start()]  # the next error's code starts another error
        for pattern in (_JSON_MSG, _INLINE_MSG, _LINE_MSG, _LABEL_MSG):
            found = pattern.search(after)
            if found and (msg := _clean(found[1], code)):
                return msg
        if (msg := _before(text[max(0, start - _BEFORE) : start], code)) is not None:
            return msg
        found = re.match(r"[\"']?[ \t]*+(?::|-|–)[ \t]++(\S[^\n]{0,4000})", text[end : end + 4100])
        if found and (msg := _clean(found[1], code)):  # "Code: message" on one line
            return msg
    return None


def _before(window: str, code: str) -> str | None:
    """A message written before its code in the same object (``{"errorString": …, "errorCode"``)."""
    last = None
    for pattern in (_JSON_MSG, _LINE_MSG):
        for found in pattern.finditer(window):
            if last is None or found.end() > last.end():
                last = found
    if last is None:
        return None
    between = _KEY_AT_END.sub("", window[last.end() :])
    if _CODE_KEY.search(between) or "{" in between or "}" in between:
        return None
    return _clean(last[1], code)


def _clean(raw: str, code: str) -> str | None:
    text = re.sub(r"\\(u[0-9a-fA-F]{4}|.)", _unescape, raw) if "\\" in raw else raw
    text = _SPACE.sub(" ", _JUNK.sub(" ", text)).strip().strip("\"'`,;").strip()
    if len(text) < 3 or text.casefold() == code.casefold() or not re.search(r"[^\W\d_]", text):
        return None
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1].rstrip() + "…"


def _unescape(found: re.Match[str]) -> str:
    esc = found[1]
    if len(esc) == 5:
        point = int(esc[1:], 16)
        return "" if 0xD800 <= point <= 0xDFFF else chr(point)  # a lone surrogate cannot be sent
    return _ESCAPES.get(esc, esc)


_OP_FIELD = re.compile(
    r'(?im)"(?:operation|operationCategory|operationName)"\s*+:\s*+"([^"\n]{1,200})'
    rf"|^[ \t]*+Operation(?:[ \t]*+name)?{_SEP}(\S[^\n]{{0,200}})"
)
_OP_COMMAND = re.compile(
    r"\b(az[ \t]++(?:backup|dataprotection)(?:[ \t]++[a-z][a-z-]{1,40}){1,3})"
    r"|\b((?:Get|Set|New|Remove|Enable|Disable|Restore|Backup|Start|Stop|Register|Unregister|"
    r"Undo|Update|Initialize|Edit|Suspend|Resume|Test|Search)-Az(?:RecoveryServices|DataProtection)"
    r"[A-Za-z]{1,60})",
    re.IGNORECASE,
)
_OP_WORDS = re.compile(  # "backup failed" alone says too little to name an operation
    r"(?i)\b(?!backup[ \t]+failed)(configure backup|enable backup|stop backup|disable backup|"
    r"delete backup data|cross[- ]region restore|file recovery|restore|backup|"
    r"(?:backup )?policy (?:update|creation|change|assignment)|re-?register|register|unregister)"
    r"[ \t]+(?:job|operation|failed)\b"
)
_OP_JOBTYPE = re.compile(
    r'(?im)"job_?type"\s*+:\s*+"([^"\n]{1,200})'
    rf"|^[ \t]*+Job[ \t]*+type{_SEP}(\S[^\n]{{0,200}})"
)


def _operation(text: str) -> str | None:
    for pattern in (_OP_FIELD, _OP_COMMAND, _OP_WORDS, _OP_JOBTYPE):
        for found in pattern.finditer(text):
            value = next((g for g in found.groups() if g), "")
            value = _SPACE.sub(" ", _JUNK.sub(" ", value)).strip().strip("\"',;")
            if re.search(r"[A-Za-z]", value):
                return value if len(value) <= MAX_OPERATION else value[: MAX_OPERATION - 1] + "…"
    return None
