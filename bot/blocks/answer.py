"""One answer in Block Kit: what the error is, what matched, causes, steps, docs and buttons."""

from __future__ import annotations

from collections.abc import Collection

from actions.names import action_label
from bot import ids
from bot.blocks.labels import label
from bot.blocks.pack import Unit
from bot.blocks.text import (
    MAX_VALUE,
    Block,
    actions,
    button,
    code_span,
    context,
    escape,
    header,
    link,
    text_blocks,
    tr,
    value,
)
from knowledge.answer import Answer, AnswerSection, AnswerStep
from knowledge.model import Lang

# Paste hashes are short hex digests; the cap only keeps a strange caller within the value limit.
MAX_HASH = 256


def answer_unit(
    answer: Answer,
    entry_code: str,
    lang: Lang,
    *,
    excerpt: str | None,
    paste_hash: str,
    actions_enabled: Collection[str],
    divider: bool,
) -> Unit:
    """The blocks of one answer, grouped so that the buttons travel with the answer's end."""
    offered = _offered(answer, actions_enabled)
    more = link(answer.links[0].url, tr("more", lang)) if answer.links else ""
    head: list[Block] = [{"type": "divider"}] if divider else []
    head.append(header(f"{answer.code}: {answer.title}"))
    if excerpt and excerpt.strip():
        head.append(context(f"{tr('matched', lang)} {code_span(excerpt)}", "matched"))
    head += text_blocks(escape(answer.summary, markup=True), "summary", more=more)
    unit = Unit(text=escape(f"{answer.code}: {answer.title}"), groups=[head])

    def part(lines: list[str], name: str) -> None:
        if lines:
            unit.groups.append(text_blocks("\n".join(lines), name, more=more))

    titles = {s.title for s in answer.sections}
    if answer.causes:
        causes = [f"• {escape(c, markup=True)}" for c in answer.causes]
        part([tr("causes", lang), *causes], "causes")
    if answer.steps:
        steps = _steps(answer.steps, titles, offered, lang)
        part([tr("steps", lang), *steps], "steps")
    for n, sec in enumerate(answer.sections):
        part(_section_lines(sec, titles, offered, lang), f"cause{n}")
    if answer.notes:
        notes = [f"• {escape(note, markup=True)}" for note in answer.notes]
        part([tr("notes", lang), *notes], "notes")
    if answer.related:
        related = [f"• {link(r.url, r.label)}" for r in answer.related]
        part([tr("related", lang), *related], "related")
    tail: list[Block] = []
    if answer.links:
        docs = [tr("docs", lang), *(f"• {link(x.url, x.label)}" for x in answer.links)]
        tail += text_blocks("\n".join(docs), "docs")
    if answer.credit:
        tail.append(context(escape(answer.credit, markup=True), "credit"))
    tail += actions(_action_buttons(entry_code, offered, lang), "actions")
    tail += actions(_feedback_buttons(entry_code, paste_hash, lang), "feedback")
    unit.groups.append(tail)
    return unit


def share_block(codes: list[str], lang: Lang) -> Block:
    """The "Share in channel" button of an answer only its caller sees."""
    unique = list(dict.fromkeys(codes))
    # Codes are at most 100 characters, so this only trims an absurd number of answers.
    while len(value({"codes": unique, "lang": lang})) > MAX_VALUE:
        unique.pop()
    share = button(label("share", lang), ids.SHARE, value({"codes": unique, "lang": lang}))
    return actions([share], "share")[0]


def _offered(answer: Answer, enabled: Collection[str]) -> dict[str, str]:
    """Action name -> action_id for each action the answer offers and the caller can handle."""
    found = {n: ids.diagnose_id(n) for n in answer.diagnostics if n in enabled}
    found.update({n: ids.request_id(n) for n in answer.remediations if n in enabled})
    return found


def _steps(
    steps: list[AnswerStep], titles: set[str], offered: dict[str, str], lang: Lang
) -> list[str]:
    lines = []
    for n, step in enumerate(steps, 1):
        line = f"{n}. {escape(step.text, markup=True)}"
        if step.see is not None:
            if step.see.label in titles:
                line += " " + tr("see_below", lang, title=escape(step.see.label, markup=True))
            elif step.see.url:
                line += " " + tr("see_link", lang, link=link(step.see.url, step.see.label))
        if step.action in offered:
            said = escape(action_label(step.action, lang), markup=True)
            line += " " + tr("use_button", lang, label=said)
        lines.append(line)
    return lines


def _section_lines(
    sec: AnswerSection, titles: set[str], offered: dict[str, str], lang: Lang
) -> list[str]:
    lines = [f"*{escape(sec.title, markup=True)}*"]
    if sec.summary:
        lines.append(escape(sec.summary, markup=True))
    lines += _steps(sec.steps, titles - {sec.title}, offered, lang)
    lines += [f"• {escape(note)}" for note in sec.notes]
    if sec.link is not None:
        lines.append(link(sec.link.url, sec.link.label))
    return lines


def _action_buttons(code: str, offered: dict[str, str], lang: Lang) -> list[Block]:
    return [
        button(action_label(name, lang), action_id, value({"code": code, "action": name}))
        for name, action_id in offered.items()
    ]


def _feedback_buttons(code: str, paste_hash: str, lang: Lang) -> list[Block]:
    data = value({"code": code, "hash": paste_hash[:MAX_HASH]})
    return [
        button(label("helped", lang), ids.FEEDBACK_HELPED, data),
        button(label("not_helped", lang), ids.FEEDBACK_NOT_HELPED, data),
    ]
