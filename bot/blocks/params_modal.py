"""The approval card's "Change parameters" modal, built from a remediation's params model.

Pure functions, no Slack or Azure calls: the caller reads the choices (the VM's locks,
collections, running jobs, failed extensions) and passes them in. A menu sets the fields it
covers together (a lock is its resource group and name); every other field gets a datepicker
(dates) or a plain text input. Without choices, every field is an input.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from actions.approvals import ApprovalRequest
from actions.names import action_label
from bot import ids
from bot.blocks.actions import MAX_OPTION_VALUE, MAX_OPTIONS
from bot.blocks.labels import LABELS, label
from bot.blocks.text import Block, escape, section, shorten, tr, value
from knowledge.model import Lang

MAX_TITLE = 24  # Slack's cap on a modal's title, submit and close texts
MAX_OPTION_TEXT = 75
MAX_INPUT = 3000
SEPARATOR = "/"  # no field a menu covers may contain it (their patterns forbid it)

Values = Mapping[str, Mapping[str, Mapping[str, Any]]]  # view.state.values


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of the menu: the parameters it sets and its label (``key`` with ``facts``)."""

    params: Mapping[str, str]
    key: str
    facts: Mapping[str, str] = field(default_factory=dict)

    def text(self, lang: Lang) -> str:
        """How the option reads in ``lang``."""
        return label(self.key, lang).format(**self.facts)


@dataclass(frozen=True, slots=True)
class Form:
    """What the modal asks for: every field of the params model, some of them through a menu."""

    action: str
    fields: tuple[str, ...]
    dates: frozenset[str] = frozenset()
    menu: tuple[str, ...] = ()  # the fields the menu sets together (empty: no menu)
    choices: tuple[Choice, ...] = ()

    def block_of(self, name: str) -> str:
        """The block that holds field ``name``."""
        return ids.CHOICE if name in self.menu else name

    @property
    def blocks(self) -> list[str]:
        """The input blocks, in order."""
        return list(dict.fromkeys(self.block_of(f) for f in self.fields))


def form_for(
    action: str,
    model: type[BaseModel],
    *,
    menu: Sequence[str] = (),
    choices: Sequence[Choice] = (),
    current: Mapping[str, Any] | None = None,
) -> Form:
    """The form of ``model``; the menu only when there are choices that fit in Slack's limits.
    Current parameters that are not among the choices (a lock removed since) stay selectable."""
    fields = tuple(model.model_fields)
    dates = frozenset(n for n, f in model.model_fields.items() if f.annotation is dt.date)
    menu = tuple(f for f in menu if f in fields)
    shown = list(choices)
    now = {f: str((current or {}).get(f) or "") for f in menu}
    known = {_key(c.params, menu) for c in shown}
    if shown and all(now.values()) and _key(now, menu) not in known:
        shown.insert(0, Choice(now, "opt_current", {"value": _key(now, menu)}))
    fits = all(len(_key(c.params, menu)) <= MAX_OPTION_VALUE for c in shown)
    if not menu or not shown or not fits:
        return Form(action, fields, dates)
    return Form(action, fields, dates, menu, tuple(shown[:MAX_OPTIONS]))


def posted_form(
    action: str, model: type[BaseModel], *, menu: Sequence[str], values: Values
) -> Form:
    """The form a submitted view was built from: with the menu when its block came back."""
    plain = form_for(action, model)
    if ids.CHOICE not in values:
        return plain
    return Form(action, plain.fields, plain.dates, tuple(f for f in menu if f in plain.fields))


def params_view(
    request: ApprovalRequest,
    form: Form,
    current: Mapping[str, Any],
    *,
    target: str,
    lang: Lang = "en",
) -> dict[str, Any]:
    """The modal (``views.open``'s ``view``), its inputs set to the ``current`` parameters."""
    action = escape(action_label(form.action, lang))
    blocks: list[Block] = [
        section(tr("modal_intro", lang, action=action, target=escape(target)), "intro")
    ]
    for name in form.blocks:
        if name == ids.CHOICE:
            blocks.append(_menu(form, current, lang))
        elif name in form.dates:
            blocks.append(_date(name, current.get(name), lang))
        else:
            blocks.append(_text(name, current.get(name), lang))
    return {
        "type": "modal",
        "callback_id": ids.PARAMS_MODAL,
        "private_metadata": value({"id": request.id, "hash": request.plan_hash}),
        "title": _plain(label("modal_title", lang), MAX_TITLE),
        "submit": _plain(label("modal_submit", lang), MAX_TITLE),
        "close": _plain(label("modal_cancel", lang), MAX_TITLE),
        "blocks": blocks,
    }


def submitted(form: Form, values: Values) -> tuple[dict[str, str], set[str]]:
    """The parameters a submission sets (``view.state.values``), and the blocks it got wrong."""
    params: dict[str, str] = {}
    wrong: set[str] = set()
    for block in form.blocks:
        state = values.get(block, {}).get(ids.param_id(block), {})
        if block == ids.CHOICE:
            raw = str((state.get("selected_option") or {}).get("value") or "")
            parts = raw.split(SEPARATOR)
            if len(parts) != len(form.menu) or not all(parts):
                wrong.add(block)
                continue
            params.update(zip(form.menu, parts, strict=True))
        elif block in form.dates:
            picked = state.get("selected_date")
            if not isinstance(picked, str):
                wrong.add(block)
                continue
            params[block] = picked
        else:
            params[block] = str(state.get("value") or "").strip()
    return params, wrong


def _key(params: Mapping[str, Any], menu: Sequence[str]) -> str:
    return SEPARATOR.join(str(params.get(f) or "") for f in menu)


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit), "emoji": True}


def _field_label(name: str, lang: Lang) -> str:
    key = f"param_{name}"
    return label(key, lang) if key in LABELS else name


def _input(block: str, text: str, element: dict[str, Any]) -> Block:
    return {
        "type": "input",
        "block_id": block,
        "label": _plain(text, 2000),
        "element": {**element, "action_id": ids.param_id(block)},
    }


def _option(choice: Choice, menu: Sequence[str], lang: Lang) -> dict[str, Any]:
    return {
        "text": _plain(choice.text(lang), MAX_OPTION_TEXT),
        "value": _key(choice.params, menu),
    }


def _menu(form: Form, current: Mapping[str, Any], lang: Lang) -> Block:
    options = [_option(c, form.menu, lang) for c in form.choices]
    element: dict[str, Any] = {
        "type": "static_select",
        "placeholder": _plain(label("modal_pick", lang), 150),
        "options": options,
    }
    now = _key(current, form.menu)
    initial = next((o for o in options if o["value"] == now), None)
    if initial is not None:
        element["initial_option"] = initial
    key = f"choice_{form.action}"
    text = label(key, lang) if key in LABELS else label("modal_pick", lang)
    return _input(ids.CHOICE, text, element)


def _date(name: str, current: Any, lang: Lang) -> Block:
    element: dict[str, Any] = {"type": "datepicker"}
    with contextlib.suppress(ValueError):  # no valid date stored: the picker starts empty
        element["initial_date"] = dt.date.fromisoformat(str(current)).isoformat()
    return _input(name, _field_label(name, lang), element)


def _text(name: str, current: Any, lang: Lang) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "max_length": MAX_INPUT}
    if current:
        element["initial_value"] = shorten(str(current), MAX_INPUT)
    return _input(name, _field_label(name, lang), element)
