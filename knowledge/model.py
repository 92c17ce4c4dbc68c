"""The knowledge base's data model: what one YAML file under ``knowledge/data/`` may hold.

Three kinds of file, all validated with pydantic at load time:

* ``articles.yaml``: the Microsoft Docs articles the entries are based on (credit and links);
* ``sections/<id>.yaml``: a shared cause with its solution steps, referenced by several errors the
  way the article cross-references "Causes and solutions";
* ``entries/<Code>.yaml``: one Azure Backup error: its codes, messages, causes, ordered steps, the
  bot actions that fit it, and links.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from actions.names import DiagnosticName, RemediationName

Lang = Literal["en", "zh-TW"]
LANGS: tuple[Lang, ...] = ("en", "zh-TW")

DOCS_BASE = "https://learn.microsoft.com/{locale}/azure/{service}/{slug}"
_LOCALE: dict[Lang, str] = {"en": "en-us", "zh-TW": "zh-tw"}

# A named code (``UserErrorVmNotInDesirableState``), a numeric id (MARS/DPM/MABS ``34513``) or a
# hexadecimal HRESULT/internal code (``0x80070005``).
Code = Annotated[
    str,
    StringConstraints(pattern=r"^(?:[A-Za-z][A-Za-z0-9]{3,99}|[0-9]{3,9}|0x[0-9A-Fa-f]{4,8})$"),
]
Workload = Literal[
    "vm",
    "sql",
    "sap-hana",
    "sap-ase",
    "azure-files",
    "mars",
    "mabs-dpm",
    "system-state",
    "blob",
    "adls",
    "disk",
    "aks",
    "postgresql",
    "mysql",
    "vault",
    "restore",
    "generic",
    "arm",
]
WORKLOADS: tuple[str, ...] = get_args(Workload)
SectionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    # defer_build: a command that reads the compiled cache (knowledge/kbcache.py) validates
    # nothing, so it need not build validators for every model at import time.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class Text(_Strict):
    """A sentence or paragraph in both languages the bot answers in."""

    en: NonEmpty
    zh_TW: NonEmpty = Field(alias="zh-TW")  # noqa: N815 - mirrors the language tag

    def get(self, lang: Lang) -> str:
        """The text in ``lang``."""
        return self.en if lang == "en" else self.zh_TW


class Step(_Strict):
    """One ordered step; ``see`` points at a shared section, ``action`` at a bot action.

    ``applies_to`` (here and on causes) limits it to some of the entry's codes.
    """

    text: Text
    see: SectionId | None = None
    action: DiagnosticName | RemediationName | None = None
    applies_to: list[Code] = Field(default_factory=list)


class Cause(_Strict):
    """A cause: either written here (``text``) or a shared section (``section``), not both."""

    text: Text | None = None
    section: SectionId | None = None
    applies_to: list[Code] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_of(self) -> Cause:
        if (self.section is None) == (self.text is None):
            raise ValueError("a cause needs exactly one of 'text' or 'section'")
        return self


class DocLink(_Strict):
    """A link into one of the articles in ``articles.yaml``."""

    article: SectionId
    anchor: str = ""

    @field_validator("anchor")
    @classmethod
    def _anchor(cls, anchor: str) -> str:
        if anchor and not re.fullmatch(r"[A-Za-z0-9_.-]+", anchor):
            raise ValueError("an anchor holds only letters, digits, '-', '_' and '.'")
        return anchor


class Message(_Strict):
    """An error message as the service or the docs word it; ``code`` when it implies one code.

    ``weak``: too short or too common to name the error alone ("Access Is Denied", 拒絕存取); the
    matcher uses it only beside the entry's code or with strong context.
    """

    text: NonEmpty
    lang: Lang = "en"
    code: Code | None = None
    weak: bool = False
    note: str = ""


class Symptom(_Strict):
    """A phrase people paste that is not the official message: a portal or PowerShell status, an
    agent or extension log line, the Compute/ARM message beside the error, the question form.

    Weaker evidence than a message: alone it suggests; unasked it answers only with backup context.
    """

    text: NonEmpty
    lang: Lang = "en"
    note: str = ""


class Source(_Strict):
    """Where an entry's knowledge comes from, and who wrote its zh-TW text.

    ``kind``: ``docs`` (a Microsoft Docs article, see ``docs``) or ``community`` (public issue
    threads and Q&A pages, listed in ``links``). ``zh``: ``seed`` (the seed article's zh-TW
    edition), ``microsoft`` (Microsoft's zh-TW documentation) or ``ours`` (our translation).
    """

    kind: Literal["docs", "community"] = "docs"
    zh: Literal["seed", "microsoft", "ours"] = "ours"
    links: list[Annotated[str, StringConstraints(pattern=r"^https://\S+$")]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _community_links(self) -> Source:
        if self.kind == "community" and not self.links:
            raise ValueError("a community-sourced entry lists the links it came from")
        return self


class Alias(_Strict):
    """An older or misspelt code that means this entry (answered as the entry's code)."""

    code: Code
    note: str = ""


class Article(_Strict):
    """A Microsoft Docs article the knowledge base is based on."""

    id: SectionId
    slug: NonEmpty
    title: Text
    licence: NonEmpty = "CC BY 4.0"
    service: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+(?:/[a-z0-9-]+)*$")] = "backup"

    def url(self, lang: Lang, anchor: str = "") -> str:
        """The article's address on Microsoft Learn in ``lang``, with ``#anchor`` if given."""
        url = DOCS_BASE.format(locale=_LOCALE[lang], service=self.service, slug=self.slug)
        return f"{url}#{anchor}" if anchor else url


class Section(_Strict):
    """A shared cause and its solution, as in the article's "Causes and solutions"."""

    id: SectionId
    title: Text
    summary: Text | None = None
    steps: list[Step] = Field(min_length=1)
    notes: list[Text] = Field(default_factory=list)
    diagnostics: list[DiagnosticName] = Field(default_factory=list)
    remediations: list[RemediationName] = Field(default_factory=list)
    docs: list[DocLink] = Field(default_factory=list)


class Entry(_Strict):
    """One Azure Backup error and how to fix it."""

    code: Code
    workload: Workload
    source: Source = Field(default_factory=Source)
    also_codes: list[Code] = Field(default_factory=list)
    aliases: list[Alias] = Field(default_factory=list)
    numeric_codes: list[int] = Field(default_factory=list)
    generic: bool = False
    title: Text
    messages: list[Message] = Field(min_length=1)
    symptoms: list[Symptom] = Field(default_factory=list)
    summary: Text
    causes: list[Cause] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)
    diagnostics: list[DiagnosticName] = Field(default_factory=list)
    remediations: list[RemediationName] = Field(default_factory=list)
    related: list[Code] = Field(default_factory=list)
    docs: list[DocLink] = Field(min_length=1)

    @property
    def all_codes(self) -> list[str]:
        """The entry's own codes: the main one first, then the other current ones."""
        return [self.code, *self.also_codes]
