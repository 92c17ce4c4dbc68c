"""A code the knowledge base does not know, in Block Kit: its family and what the paste showed.

The code, the service's message and the operation come from the user's paste: they are shown only
as escaped inline code, so nothing typed is posted back as a link, a mention or a broadcast.
"""

from __future__ import annotations

from bot.blocks.labels import label
from bot.blocks.pack import Unit
from bot.blocks.text import (
    Block,
    code_span,
    context,
    escape,
    header,
    link,
    section,
    text_blocks,
    tr,
)
from knowledge.families import FamilyAnswer
from knowledge.model import Lang
from knowledge.service_message import MAX_MESSAGE, MAX_OPERATION

MAX_CODE = 100


def family_unit(answer: FamilyAnswer, lang: Lang, *, divider: bool) -> Unit:
    """The blocks for one unknown code: family, the service's message, operation, steps, search."""
    family = answer.family
    code = answer.code[:MAX_CODE]
    title = family.title.get(lang)
    blocks: list[Block] = [{"type": "divider"}] if divider else []
    blocks.append(header(f"{code}: {title}", "family"))
    blocks.append(context(tr("family_unknown", lang), "family_unknown"))
    blocks += text_blocks(escape(family.explanation.get(lang), markup=True), "family_explanation")
    if answer.message:
        said = f"{tr('family_said', lang)} {code_span(answer.message, MAX_MESSAGE)}"
        blocks.append(section(said, "family_said"))
    if answer.operation:
        operation = f"{tr('family_operation', lang)} {code_span(answer.operation, MAX_OPERATION)}"
        blocks.append(context(operation, "family_operation"))
    if family.steps:
        steps = [f"{n}. {escape(s.get(lang), markup=True)}" for n, s in enumerate(family.steps, 1)]
        blocks += text_blocks("\n".join([tr("family_steps", lang), *steps]), "family_steps")
    search = link(answer.search_url(lang), label("family_search", lang).format(code=code))
    blocks.append(section(f"• {search}", "family_search"))
    return Unit(text=escape(f"{code}: {title}"), groups=[blocks])
