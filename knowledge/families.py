"""Families of Azure Backup error codes: a useful answer for a code nobody has explained yet.

``data/families.yaml`` says what a code's prefix or shape tells (``UserError…``, ``BMSUserError…``,
``Cloud…``, ``Dpp…``, MARS ``Sal…``, numeric ids, ...). ``family_answer`` adds what the paste itself
shows next to the code (``knowledge/service_message.py``): the service's own message and the
operation it came from. Pure.
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
from knowledge.service_message import operation, service_message

FAMILIES_PATH = DATA_DIR / "families.yaml"
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
    family = (families or default_families()).get(code)
    return FamilyAnswer(code, family, service_message(code, paste), operation(paste))


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
