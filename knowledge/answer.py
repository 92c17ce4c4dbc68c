"""Compose an entry and the shared sections it cites into one answer in one language.

The terminal renderer and the Slack Block Kit builder both draw from this, so the two always say
the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.loader import KnowledgeBase
from knowledge.model import DocLink, Entry, Lang, Section

CREDIT: dict[Lang, str] = {
    "en": "Based on Microsoft Docs, CC BY 4.0",
    "zh-TW": "內容取材自 Microsoft Docs，CC BY 4.0 授權",
}


@dataclass(frozen=True, slots=True)
class Link:
    """A labelled address."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class AnswerStep:
    """One numbered step; ``see`` names the shared section it refers to, ``action`` a bot action."""

    text: str
    see: Link | None = None
    action: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerSection:
    """A shared cause with its own ordered steps (the article's "Causes and solutions")."""

    id: str
    title: str
    summary: str | None
    steps: list[AnswerStep]
    notes: list[str]
    link: Link | None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the bot says about one error, in one language."""

    code: str
    codes: list[str]
    title: str
    summary: str
    causes: list[str]
    sections: list[AnswerSection]
    steps: list[AnswerStep]
    notes: list[str]
    links: list[Link]
    diagnostics: list[str]
    remediations: list[str]
    related: list[Link]
    credit: str = field(default="")


def compose(entry: Entry, kb: KnowledgeBase, lang: Lang, *, code: str | None = None) -> Answer:
    """The answer for ``entry`` in ``lang``; ``code`` is the code the paste showed, if any."""
    sections: list[AnswerSection] = []
    causes: list[str] = []
    seen: set[str] = set()

    def add_section(section_id: str) -> str:
        section = kb.sections[section_id]
        if section_id not in seen:  # sections cite sections: include each once, in order
            seen.add(section_id)
            sections.append(_section(section, kb, lang))
            for step in section.steps:
                if step.see:
                    add_section(step.see)
        return section.title.get(lang)

    shown = code or entry.code
    for cause in entry.causes:
        if cause.applies_to and shown not in cause.applies_to:
            continue
        if cause.text is not None:
            causes.append(cause.text.get(lang))
        elif cause.section is not None:
            causes.append(add_section(cause.section))
    entry_steps = [s for s in entry.steps if not s.applies_to or shown in s.applies_to]
    steps = [_step(s.text.get(lang), s.see, s.action, kb, lang) for s in entry_steps]
    for step in entry_steps:
        if step.see:
            add_section(step.see)
    diagnostics = list(dict.fromkeys([*entry.diagnostics, *_from_sections(sections, kb, "d")]))
    remediations = list(dict.fromkeys([*entry.remediations, *_from_sections(sections, kb, "r")]))
    related = []
    for other_code in entry.related:
        other = kb.get(other_code)
        if other is not None:
            url = _doc_url(other.docs[0], kb, lang)
            related.append(Link(f"{other.code}: {other.title.get(lang)}", url))
    return Answer(
        code=code or entry.code,
        codes=entry.all_codes,
        title=entry.title.get(lang),
        summary=entry.summary.get(lang),
        causes=causes,
        sections=sections,
        steps=steps,
        notes=[n.get(lang) for n in entry.notes],
        links=[_doc_link(d, kb, lang) for d in entry.docs],
        diagnostics=diagnostics,
        remediations=remediations,
        related=related,
        credit=CREDIT[lang],
    )


def _section(section: Section, kb: KnowledgeBase, lang: Lang) -> AnswerSection:
    return AnswerSection(
        id=section.id,
        title=section.title.get(lang),
        summary=section.summary.get(lang) if section.summary else None,
        steps=[_step(s.text.get(lang), s.see, s.action, kb, lang) for s in section.steps],
        notes=[n.get(lang) for n in section.notes],
        link=_doc_link(section.docs[0], kb, lang) if section.docs else None,
    )


def _step(
    text: str, see: str | None, action: str | None, kb: KnowledgeBase, lang: Lang
) -> AnswerStep:
    link = None
    if see is not None:
        section = kb.sections[see]
        url = _doc_url(section.docs[0], kb, lang) if section.docs else ""
        link = Link(section.title.get(lang), url)
    return AnswerStep(text=text, see=link, action=action)


def _from_sections(sections: list[AnswerSection], kb: KnowledgeBase, kind: str) -> list[str]:
    names: list[str] = []
    for s in sections:
        section = kb.sections[s.id]
        names += section.diagnostics if kind == "d" else section.remediations
    return names


def _doc_url(link: DocLink, kb: KnowledgeBase, lang: Lang) -> str:
    return kb.articles[link.article].url(lang, link.anchor)


def _doc_link(link: DocLink, kb: KnowledgeBase, lang: Lang) -> Link:
    article = kb.articles[link.article]
    return Link(article.title.get(lang), article.url(lang, link.anchor))


@dataclass(frozen=True, slots=True)
class Details:
    """What an answer says beyond its first screen (title, summary, steps): read on request.

    Slack posts it under "Show details"; ``backup-fix diagnose`` prints it after the steps.
    """

    causes: list[str]
    sections: list[AnswerSection]
    notes: list[str]
    related: list[Link]
    links: list[Link]
    credit: str


def details(answer: Answer) -> Details:
    """The details of ``answer``: its causes, the shared sections with their steps, notes,
    related errors and links; the one source for the terminal and for "Show details"."""
    return Details(
        causes=answer.causes,
        sections=answer.sections,
        notes=answer.notes,
        related=answer.related,
        links=answer.links,
        credit=answer.credit,
    )
