"""Render an analysis for a terminal: what `backup-fix diagnose` prints."""

from __future__ import annotations

from collections.abc import Sequence

from actions.names import action_label, is_remediation
from knowledge.answer import Answer, AnswerStep, Details, compose, details
from knowledge.families import FamilyAnswer
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Analysis, Match, default_matcher
from knowledge.model import Lang
from knowledge.wrap import DEFAULT_WIDTH, wrap

_WORDS: dict[Lang, dict[str, str]] = {
    "en": {
        "matched": 'Matched: "{text}"',
        "found": "({score_word} {score}, via {via})",
        "causes": "Causes:",
        "steps": "Steps:",
        "see": "see",
        "note": "Note: ",
        "docs": "Docs:",
        "link": "{label}: {url}",
        "actions": "Offered actions:",
        "approval": "needs approval",
        "related": "Related:",
        "none": "No known Azure Backup error found in the paste.",
        "maybe": "Did you mean:",
        "cut": "Note: the paste is longer than 64 KiB; only its first 64 KiB were read.",
        "score": "score",
        "unknown": "(not in the knowledge base yet; what its name tells)",
        "said": 'The service said: "{text}"',
        "operation": "Operation: {text}",
        "start": "Where to start:",
        "search": "Search Microsoft Learn: {url}",
    },
    "zh-TW": {
        "matched": '比對到的內容："{text}"',
        "found": "({score_word} {score}，比對依據：{via})",
        "causes": "原因：",
        "steps": "步驟：",
        "see": "請參閱",
        "note": "附註：",
        "docs": "文件：",
        "link": "{label}：{url}",
        "actions": "可用的動作：",
        "approval": "需核准",
        "related": "相關錯誤：",
        "none": "在貼上的內容中找不到已知的 Azure 備份錯誤。",
        "maybe": "您是否要找：",
        "cut": "附註：貼上的內容超過 64 KiB，只讀取了前 64 KiB。",
        "score": "分數",
        "unknown": "(這個錯誤碼還不在知識庫中；從它的名稱可以看出)",
        "said": '服務的訊息："{text}"',
        "operation": "作業：{text}",
        "start": "可以從這裡開始：",
        "search": "在 Microsoft Learn 搜尋：{url}",
    },
}
# How a match was found (Match.via), in words.
_VIA: dict[str, dict[Lang, str]] = {
    "code": {"en": "error code", "zh-TW": "錯誤碼"},
    "alias": {"en": "another name of the code", "zh-TW": "錯誤碼的別名"},
    "fuzzy_code": {"en": "a code spelled differently", "zh-TW": "拼寫略有不同的錯誤碼"},
    "truncated_code": {"en": "a cut-off code", "zh-TW": "被截斷的錯誤碼"},
    "numeric_code": {"en": "numeric error code", "zh-TW": "數字錯誤碼"},
    "message": {"en": "error message", "zh-TW": "錯誤訊息"},
    "symptom": {"en": "described symptom", "zh-TW": "描述的症狀"},
}
RULE = "=" * 78


def render_analysis(
    analysis: Analysis,
    *,
    lang: Lang | None = None,
    kb: KnowledgeBase | None = None,
    families: Sequence[FamilyAnswer] = (),
    width: int = DEFAULT_WIDTH,
) -> str:
    """The full terminal reply for one paste, in ``lang`` (default: the paste's, else English),
    wrapped at ``width`` columns.

    Known errors first, then ``families``: what the paste's unknown codes' names tell.
    """
    lang = lang or analysis.lang or "en"
    kb = kb or default_matcher().kb
    w = _WORDS[lang]
    rule = RULE[:width]
    out: list[str] = []
    if analysis.truncated:
        out += wrap(w["cut"], width)
    if not analysis.matches:
        if families:
            for i, family in enumerate(families):
                out += [*(["", rule] if i else []), *render_family(family, lang, width=width)]
            out.append("")
        else:
            out += wrap(w["none"], width)
        if analysis.suggestions:
            out.append(w["maybe"])
            for m in analysis.suggestions:
                line = f"{m.code}: {m.entry.title.get(lang)} ({w['score']} {m.score})"
                out += wrap(line, width, prefix="  - ")
        return "\n".join(out) + "\n"
    for i, m in enumerate(analysis.matches):
        if i:
            out += ["", rule]
        out += render_match(m, kb, lang, width=width)
    for family in families:
        out += ["", rule, *render_family(family, lang, width=width)]
    return "\n".join(out) + "\n"


def render_family(answer: FamilyAnswer, lang: Lang, *, width: int = DEFAULT_WIDTH) -> list[str]:
    """The lines for a code the knowledge base does not know: its family and the paste's words."""
    w = _WORDS[lang]
    family = answer.family
    out = [*wrap(f"{answer.code} - {family.title.get(lang)}", width), *wrap(w["unknown"], width)]
    if answer.message:
        out += wrap(w["said"].format(text=answer.message), width)
    if answer.operation:
        out += wrap(w["operation"].format(text=answer.operation), width)
    out += ["", *wrap(family.explanation.get(lang), width)]
    if family.steps:
        out += ["", w["start"]]
        for n, s in enumerate(family.steps, 1):
            out += wrap(s.get(lang), width, prefix=f"  {n}. ")
    return [*out, "", *wrap(w["search"].format(url=answer.search_url(lang)), width)]


def render_match(
    m: Match, kb: KnowledgeBase, lang: Lang, *, width: int = DEFAULT_WIDTH
) -> list[str]:
    """The lines for one matched error."""
    a = compose(m.entry, kb, lang, code=m.code)
    w = _WORDS[lang]
    via = _VIA.get(m.via, {}).get(lang, m.via)
    out = [
        *wrap(f"{a.code} - {a.title}", width),
        *wrap(w["found"].format(score_word=w["score"], score=m.score, via=via), width),
    ]
    if m.excerpt:
        out += wrap(w["matched"].format(text=_short(m.excerpt, 160)), width)
    out += ["", *wrap(a.summary, width)]
    if a.steps:  # the first screen, as in Slack; then the details, as under "Show details"
        out += ["", w["steps"], *_steps(a.steps, w, width)]
    d = details(a)
    if d.causes:
        out += ["", w["causes"]]
        for n, cause in enumerate(d.causes, 1):
            out += wrap(cause, width, prefix=f"  {n}. ")
    for section in d.sections:
        out += ["", *wrap(f"[{section.title}]", width)]
        if section.summary:
            out += wrap(section.summary, width, prefix="  ")
        out += _steps(section.steps, w, width)
        for note in section.notes:
            out += wrap(note, width, prefix=f"  {w['note']}")
        if section.link:
            out += wrap(section.link.url, width, prefix="  ")
    for note in d.notes:
        out += wrap(note, width, prefix=w["note"])
    return out + _footer(a, d, lang, w, width)


def _footer(a: Answer, d: Details, lang: Lang, w: dict[str, str], width: int) -> list[str]:
    out = ["", w["docs"]]
    for link in d.links:
        out += wrap(w["link"].format(label=link.label, url=link.url), width, prefix="  ")
    names = [*a.diagnostics, *a.remediations]
    if names:
        out += ["", w["actions"]]
        for name in names:
            flag = f" ({w['approval']})" if is_remediation(name) else ""
            out += wrap(f"{action_label(name, lang)} [{name}]{flag}", width, prefix="  - ")
    if d.related:
        out += ["", w["related"]]
        for related in d.related:
            out += wrap(related.label, width, prefix="  - ")
    return [*out, "", *wrap(d.credit, width)]


def _steps(steps: list[AnswerStep], w: dict[str, str], width: int) -> list[str]:
    out: list[str] = []
    for n, step in enumerate(steps, 1):
        out += wrap(step.text, width, prefix=f"  {n}. ")
        if step.see is not None:
            out += wrap(f"{w['see']} [{step.see.label}]", width, prefix="     -> ")
    return out


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
