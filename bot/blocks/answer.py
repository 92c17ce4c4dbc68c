"""One answer in Block Kit: the short first reply (what the error is, what matched, why, the top
steps and the buttons), and its details (causes, shared sections, notes, related errors, docs),
posted on request."""

from __future__ import annotations

import re
from collections.abc import Collection

from actions.names import action_label
from bot import ids
from bot.blocks.fit import MAX_VISIBLE, allot, cut_words, visible_length
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
from knowledge.answer import Answer, AnswerSection, AnswerStep, details
from knowledge.model import Lang

# Paste hashes are short hex digests; the cap only keeps a strange caller within the value limit.
MAX_HASH = 256
MAX_BRIEF_STEPS = 5  # the top-level steps a first reply shows
BRIEF_EXCERPT = 100  # what matched, in a first reply
FLOOR = 40  # no text of a first reply is cut shorter than this while others are longer


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
    """The short first reply to one error, within ``MAX_VISIBLE`` characters a reader sees:
    title, what matched, the one-sentence cause, up to five steps (one line each), buttons."""
    offered = _offered(answer, actions_enabled)
    head: list[Block] = [{"type": "divider"}] if divider else []
    head.append(header(f"{answer.code}: {answer.title}"))
    if excerpt and excerpt.strip():
        head.append(
            context(f"{tr('matched', lang)} {code_span(excerpt, BRIEF_EXCERPT)}", "matched")
        )
    doc = link(answer.links[0].url, answer.links[0].label) if answer.links else ""
    foot = [context(" · ".join(x for x in (doc, escape(answer.credit, markup=True)) if x), "docs")]
    body, cut = _brief_body(answer, offered, lang, MAX_VISIBLE - visible_length(head + foot))
    unit = Unit(text=escape(f"{answer.code}: {answer.title}"), groups=[head + body])
    shown = {"as": answer.code} if answer.code != entry_code else {}
    more = value({"code": entry_code, **shown, "lang": lang, "steps": int(cut)})
    tail = foot + actions(_action_buttons(entry_code, offered, lang), "actions")
    details_button = button(label("show_details", lang), ids.DETAILS, more)
    tail += actions([details_button, *_feedback_buttons(entry_code, paste_hash, lang)], "feedback")
    unit.groups.append(tail)
    return unit


def details_unit(
    answer: Answer, lang: Lang, *, steps: bool, actions_enabled: Collection[str]
) -> Unit:
    """The rest of an answer ("Show details"): causes, the steps again when the first reply had
    to shorten them, the shared sections with their steps, notes, related errors and docs."""
    offered = _offered(answer, actions_enabled)
    more = link(answer.links[0].url, tr("more", lang)) if answer.links else ""
    title = label("details_title", lang).format(code=answer.code)
    unit = Unit(text=escape(f"{title}: {answer.title}"), groups=[[header(title, "details")]])
    part = details(answer)

    def add(lines: list[str], name: str) -> None:
        if lines:
            unit.groups.append(text_blocks("\n".join(lines), name, more=more))

    titles = {s.title for s in part.sections}
    if part.causes:
        add([tr("causes", lang), *(f"• {escape(c, markup=True)}" for c in part.causes)], "causes")
    if steps and answer.steps:
        add([tr("steps", lang), *_steps(answer.steps, titles, offered, lang)], "steps")
    for n, sec in enumerate(part.sections):
        add(_section_lines(sec, titles, offered, lang), f"cause{n}")
    if part.notes:
        add([tr("notes", lang), *(f"• {escape(n, markup=True)}" for n in part.notes)], "notes")
    if part.related:
        add([tr("related", lang), *(f"• {link(r.url, r.label)}" for r in part.related)], "related")
    tail: list[Block] = []
    if part.links:
        docs = [tr("docs", lang), *(f"• {link(x.url, x.label)}" for x in part.links)]
        tail += text_blocks("\n".join(docs), "docs")
    if part.credit:
        tail.append(context(escape(part.credit, markup=True), "credit"))
    if tail:
        unit.groups.append(tail)
    return unit


def more_unit(codes: list[str], lang: Lang, *, paste_hash: str) -> Unit:
    """What a paste's answers beyond the first few are about, and "Show N more" to post them."""
    found = tr("more_found", lang, count=str(len(codes)), codes=", ".join(map(code_span, codes)))
    data = value({"codes": codes, "lang": lang, "hash": paste_hash[:MAX_HASH]})
    show = button(label("show_more", lang).format(count=len(codes)), ids.MORE, data)
    return Unit(
        text=escape(", ".join(codes)), groups=[[context(found, "more"), *actions([show], "more")]]
    )


def share_block(codes: list[str], lang: Lang) -> Block:
    """The "Share in channel" button of an answer only its caller sees."""
    unique = list(dict.fromkeys(codes))
    # Codes are at most 100 characters, so this only trims an absurd number of answers.
    while len(value({"codes": unique, "lang": lang})) > MAX_VALUE:
        unique.pop()
    share = button(label("share", lang), ids.SHARE, value({"codes": unique, "lang": lang}))
    return actions([share], "share")[0]


def _brief_body(
    answer: Answer, offered: dict[str, str], lang: Lang, budget: int
) -> tuple[list[Block], bool]:
    """The summary and the top steps within ``budget`` visible characters; whether anything was
    shortened or left out (then the details repeat the steps in full)."""
    texts = [_one_line(answer.summary), *(_one_line(s.text) for s in answer.steps)]
    count = min(len(answer.steps), MAX_BRIEF_STEPS)
    hints = [_hint(s, offered, lang) for s in answer.steps[:count]]
    while True:
        overhead = visible_length(_brief_blocks("", [""] * count, hints, lang))
        lengths = [len(t) for t in texts[: 1 + count]]
        cap = allot(lengths, budget - overhead, floor=FLOOR)
        if cap is not None or count == 0:
            break
        if any(hints):
            hints = [""] * count  # the buttons are right below: the pointers go first
        else:
            count -= 1
            hints = hints[:count]
    cap = FLOOR if cap is None else cap
    fitted = [cut_words(t, cap) for t in texts[: 1 + count]]
    cut = count < len(answer.steps) or fitted != texts[: 1 + count]
    return _brief_blocks(fitted[0], fitted[1:], hints, lang), cut


def _brief_blocks(summary: str, steps: list[str], hints: list[str], lang: Lang) -> list[Block]:
    blocks = text_blocks(escape(summary, markup=True), "summary") if summary else []
    if steps:
        lines = [
            f"{n}. {escape(s, markup=True)}{h}"
            for n, (s, h) in enumerate(zip(steps, hints, strict=True), 1)
        ]
        blocks += text_blocks("\n".join([tr("steps", lang), *lines]), "steps")
    return blocks


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _hint(step: AnswerStep, offered: dict[str, str], lang: Lang) -> str:
    if step.action not in offered:
        return ""
    return " " + tr("use_button", lang, label=escape(action_label(step.action, lang), markup=True))


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
        lines.append(line + _hint(step, offered, lang))
    return lines


def _section_lines(
    sec: AnswerSection, titles: set[str], offered: dict[str, str], lang: Lang
) -> list[str]:
    lines = [f"*{escape(sec.title, markup=True)}*"]
    if sec.summary:
        lines.append(escape(sec.summary, markup=True))
    lines += _steps(sec.steps, titles - {sec.title}, offered, lang)
    lines += [f"• {escape(note, markup=True)}" for note in sec.notes]  # reviewed KB text
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
