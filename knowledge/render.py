"""Render an analysis for a terminal: what `backup-fix diagnose` prints."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from actions.names import action_label, is_remediation
from knowledge.answer import Answer, AnswerStep, compose
from knowledge.families import FamilyAnswer
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Analysis, Match, default_matcher
from knowledge.model import Lang

_WORDS: dict[Lang, dict[str, str]] = {
    "en": {
        "matched": "Matched",
        "causes": "Causes",
        "steps": "Steps",
        "see": "see",
        "note": "Note",
        "docs": "Docs",
        "actions": "Offered actions",
        "approval": "needs approval",
        "related": "Related",
        "none": "No known Azure Backup error found in the paste.",
        "maybe": "Did you mean",
        "cut": "Note: the paste is longer than 64 KiB; only its first 64 KiB were read.",
        "score": "score",
        "unknown": "not in the knowledge base yet; what its name tells",
        "said": "The service said",
        "operation": "Operation",
        "start": "Where to start",
        "search": "Search Microsoft Learn",
    },
    "zh-TW": {
        "matched": "比對到的內容",
        "causes": "原因",
        "steps": "步驟",
        "see": "請參閱",
        "note": "附註",
        "docs": "文件",
        "actions": "可用的動作",
        "approval": "需核准",
        "related": "相關錯誤",
        "none": "在貼上的內容中找不到已知的 Azure 備份錯誤。",
        "maybe": "您是否要找",
        "cut": "附註：貼上的內容超過 64 KiB，只讀取了前 64 KiB。",
        "score": "分數",
        "unknown": "這個錯誤碼還不在知識庫中；從它的名稱可以看出",
        "said": "服務的訊息",
        "operation": "作業",
        "start": "可以從這裡開始",
        "search": "在 Microsoft Learn 搜尋",
    },
}


def render_analysis(
    analysis: Analysis,
    *,
    lang: Lang | None = None,
    kb: KnowledgeBase | None = None,
    families: Sequence[FamilyAnswer] = (),
) -> str:
    """The full terminal reply for one paste, in ``lang`` (default: the paste's, else English).

    Known errors first, then ``families``: what the paste's unknown codes' names tell.
    """
    lang = lang or analysis.lang or "en"
    kb = kb or default_matcher().kb
    w = _WORDS[lang]
    out: list[str] = []
    if analysis.truncated:
        out.append(w["cut"])
    if not analysis.matches:
        if families:
            for i, family in enumerate(families):
                out += [*(["", "=" * 78] if i else []), *render_family(family, lang)]
            out.append("")
        else:
            out.append(w["none"])
        if analysis.suggestions:
            out.append(f"{w['maybe']}:")
            out += [
                f"  - {m.code}: {m.entry.title.get(lang)} ({w['score']} {m.score})"
                for m in analysis.suggestions
            ]
        return "\n".join(out) + "\n"
    for i, m in enumerate(analysis.matches):
        if i:
            out.append("\n" + "=" * 78)
        out += render_match(m, kb, lang)
    for family in families:
        out += ["", "=" * 78, *render_family(family, lang)]
    return "\n".join(out) + "\n"


def render_family(answer: FamilyAnswer, lang: Lang) -> list[str]:
    """The lines for a code the knowledge base does not know: its family and the paste's words."""
    w = _WORDS[lang]
    family = answer.family
    out = [f"{answer.code} - {family.title.get(lang)}", f"({w['unknown']})"]
    if answer.message:
        out.append(f'{w["said"]}: "{answer.message}"')
    if answer.operation:
        out.append(f"{w['operation']}: {answer.operation}")
    out += ["", *_wrap(family.explanation.get(lang), lang)]
    if family.steps:
        out += ["", f"{w['start']}:"]
        out += [
            line
            for n, s in enumerate(family.steps, 1)
            for line in _wrap(s.get(lang), lang, f"  {n}. ")
        ]
    return [*out, "", f"{w['search']}: {answer.search_url(lang)}"]


def render_match(m: Match, kb: KnowledgeBase, lang: Lang) -> list[str]:
    """The lines for one matched error."""
    a = compose(m.entry, kb, lang, code=m.code)
    w = _WORDS[lang]
    out = [f"{a.code} - {a.title}", f"({w['score']} {m.score}, via {m.via})"]
    if m.excerpt:
        out.append(f'{w["matched"]}: "{_short(m.excerpt, 160)}"')
    out += ["", *_wrap(a.summary, lang)]
    if a.causes:
        out += ["", f"{w['causes']}:"]
        out += [line for n, c in enumerate(a.causes, 1) for line in _wrap(c, lang, f"  {n}. ")]
    if a.steps:
        out += ["", f"{w['steps']}:"]
        out += _steps(a.steps, lang, w)
    for section in a.sections:
        out += ["", f"[{section.title}]"]
        if section.summary:
            out += _wrap(section.summary, lang, "  ")
        out += _steps(section.steps, lang, w)
        out += [line for note in section.notes for line in _wrap(note, lang, f"  {w['note']}: ")]
        if section.link:
            out.append(f"  {section.link.url}")
    out += [line for note in a.notes for line in _wrap(note, lang, f"{w['note']}: ")]
    out += _footer(a, lang, w)
    return out


def _footer(a: Answer, lang: Lang, w: dict[str, str]) -> list[str]:
    out = ["", f"{w['docs']}:"] + [f"  {link.label}: {link.url}" for link in a.links]
    names = [*a.diagnostics, *a.remediations]
    if names:
        out += ["", f"{w['actions']}:"]
        for name in names:
            flag = f" ({w['approval']})" if is_remediation(name) else ""
            out.append(f"  - {action_label(name, lang)} [{name}]{flag}")
    if a.related:
        out += ["", f"{w['related']}:"] + [f"  - {link.label}" for link in a.related]
    return [*out, "", a.credit]


def _steps(steps: list[AnswerStep], lang: Lang, w: dict[str, str]) -> list[str]:
    out: list[str] = []
    for n, step in enumerate(steps, 1):
        out += _wrap(step.text, lang, f"  {n}. ")
        if step.see is not None:
            out.append(f"     -> {w['see']} [{step.see.label}]")
    return out


def _wrap(text: str, lang: Lang, prefix: str = "") -> list[str]:
    if lang != "en":  # CJK glyphs are double width; leave line breaking to the terminal
        return [prefix + text]
    indent = " " * len(prefix)
    return textwrap.wrap(text, 100, initial_indent=prefix, subsequent_indent=indent) or [prefix]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
