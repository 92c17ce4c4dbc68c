"""The App Home tab as Block Kit: pure functions, no Slack calls, within a Home view's 100 blocks.

Sections: a notice (a refusal or a failure, when there is one), the search box and its answer,
requests waiting for the reader's approval (Approve / Reject through the card's gate), the
reader's own open requests, and recent incidents of their channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from actions.approvals import ApprovalRequest, Status
from actions.names import action_label
from bot import ids
from bot.blocks.text import (
    MAX_TEXT,
    Block,
    actions,
    button,
    code_span,
    context,
    cut_mrkdwn,
    escape,
    header,
    section,
    value,
)
from knowledge.model import Lang

MAX_VIEW_BLOCKS: Final = 100  # Slack's cap on a Home tab
MAX_WAITING: Final = 15  # three blocks each
MAX_OWN: Final = 10
MAX_INCIDENTS: Final = 10
MAX_RESULT_BLOCKS: Final = 30
MAX_PLAN: Final = 600  # a Home card shows the plan's start; the full plan is on the request's card
MAX_QUERY: Final = 3000

WORDS: Final[dict[str, dict[Lang, str]]] = {
    "title": {"en": "Azure Backup help", "zh-TW": "Azure 備份協助"},
    "search_label": {"en": "Explain an error", "zh-TW": "說明錯誤"},
    "search_hint": {
        "en": "Paste an error code or message and press Enter",
        "zh-TW": "貼上錯誤碼或錯誤訊息後按 Enter",
    },
    "results": {"en": "Answer for {query}", "zh-TW": "{query} 的解答"},
    "waiting": {"en": "Waiting for your approval ({count})", "zh-TW": "等待您核准 ({count})"},
    "waiting_none": {
        "en": "Nothing waits for your approval.",
        "zh-TW": "目前沒有等待您核准的要求。",
    },
    "own": {"en": "Your open requests ({count})", "zh-TW": "您未結案的要求 ({count})"},
    "own_none": {"en": "You have no open requests.", "zh-TW": "您沒有未結案的要求。"},
    "incidents": {"en": "Recent incidents in your channels", "zh-TW": "您頻道中的近期事件"},
    "incidents_none": {"en": "No recent incidents.", "zh-TW": "沒有近期事件。"},
    "incidents_unknown": {
        "en": "Slack did not say which channels you are in, so no incidents are shown.",
        "zh-TW": "Slack 未回報您所在的頻道，因此不顯示事件。",
    },
    "request_line": {
        "en": "*{action}* requested by {user} in {channel}",
        "zh-TW": "{user} 在 {channel} 要求：*{action}*",
    },
    "own_line": {
        "en": "*{action}* in {channel}: {state}",
        "zh-TW": "{channel} 的 *{action}*：{state}",
    },
    "expires": {
        "en": "Request {id} · expires {at} · plan {hash}",
        "zh-TW": "要求 {id} · {at} 到期 · 計畫 {hash}",
    },
    "approve": {"en": "Approve", "zh-TW": "核准"},
    "reject": {"en": "Reject", "zh-TW": "拒絕"},
    "more": {"en": "…and {count} more", "zh-TW": "…還有 {count} 個"},
    Status.PENDING: {"en": "waiting for approval", "zh-TW": "等待核准"},
    Status.APPROVED: {"en": "approved, starting", "zh-TW": "已核准，即將執行"},
    Status.RUNNING: {"en": "running", "zh-TW": "執行中"},
}


@dataclass(frozen=True, slots=True)
class HomeIncident:
    """One recent incident as the Home tab lists it (filled once incidents/ posts them)."""

    title: str
    channel: str
    at: datetime
    link: str = ""


@dataclass(frozen=True, slots=True)
class Waiting:
    """A pending request with the Home tag its buttons carry for this reader."""

    request: ApprovalRequest
    tag: str


def word(key: str, lang: Lang, **values: str) -> str:
    """Our own wording ``key`` in ``lang`` (marks kept), placeholders filled with escaped text."""
    template = escape(WORDS[key][lang], markup=True)
    return template.format(**values) if values else template


def home_view(
    *,
    lang: Lang,
    waiting: Sequence[Waiting] = (),
    own: Sequence[ApprovalRequest] = (),
    incidents: Sequence[HomeIncident] | None = (),
    notice: str = "",
    query: str = "",
    results: Sequence[Block] = (),
) -> dict[str, object]:
    """The whole Home view (``views.publish``'s ``view``), at most 100 blocks; ``incidents``
    None when the reader's channels are unknown."""
    blocks: list[Block] = [header(WORDS["title"][lang], "home")]
    if notice:
        blocks.append(section(cut_mrkdwn(escape(notice), MAX_TEXT), "notice"))
    blocks.append(search_block(lang))
    if query:
        blocks.append(context(word("results", lang, query=code_span(query)), "results"))
        blocks += inert(results)[:MAX_RESULT_BLOCKS]
    blocks += waiting_blocks(waiting, lang)
    blocks += own_blocks(own, lang)
    blocks += incident_blocks(incidents, lang)
    return {"type": "home", "callback_id": "backup_fix.home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def search_block(lang: Lang) -> Block:
    """The search box: an input that dispatches its text when the reader presses Enter."""
    return {
        "type": "input",
        "block_id": "search",
        "dispatch_action": True,
        "optional": True,
        "label": {"type": "plain_text", "text": WORDS["search_label"][lang]},
        "element": {
            "type": "plain_text_input",
            "action_id": ids.HOME_SEARCH,
            "max_length": MAX_QUERY,
            "placeholder": {"type": "plain_text", "text": WORDS["search_hint"][lang][:150]},
            "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
        },
    }


def waiting_blocks(waiting: Sequence[Waiting], lang: Lang) -> list[Block]:
    """Requests the reader may approve, each with its plan and Approve / Reject."""
    blocks: list[Block] = [
        {"type": "divider"},
        header(WORDS["waiting"][lang].format(count=len(waiting)), "waiting"),
    ]
    if not waiting:
        return [*blocks, context(word("waiting_none", lang), "waiting_none")]
    for n, w in enumerate(waiting[:MAX_WAITING]):
        r = w.request
        line = word(
            "request_line",
            lang,
            action=escape(action_label(r.action, lang)),
            user=f"<@{escape(r.requester)}>",
            channel=f"<#{escape(r.channel)}>",
        )
        plan = cut_mrkdwn(f"```{escape(r.plan)}```", MAX_PLAN)
        blocks.append(section(cut_mrkdwn(f"{line}\n{plan}", MAX_TEXT), f"req{n}"))
        data = value({"id": r.id, "hash": r.plan_hash, "home": w.tag})
        decide = [
            button(WORDS["approve"][lang], ids.HOME_APPROVE, data, style="primary"),
            button(WORDS["reject"][lang], ids.HOME_REJECT, data, style="danger"),
        ]
        blocks += actions(decide, f"decide{n}")
        blocks.append(context(_when(r, lang), f"when{n}"))
    if len(waiting) > MAX_WAITING:
        blocks.append(context(word("more", lang, count=str(len(waiting) - MAX_WAITING)), "more"))
    return blocks


def own_blocks(own: Sequence[ApprovalRequest], lang: Lang) -> list[Block]:
    """The reader's own requests that are not settled yet, one line each."""
    blocks: list[Block] = [{"type": "divider"}, header(WORDS["own"][lang].format(count=len(own)))]
    blocks[-1]["block_id"] = "own"
    if not own:
        return [*blocks, context(word("own_none", lang), "own_none")]
    lines = [
        word(
            "own_line",
            lang,
            action=escape(action_label(r.action, lang)),
            channel=f"<#{escape(r.channel)}>",
            state=word(r.status, lang) if r.status in WORDS else escape(r.status),
        )
        for r in own[:MAX_OWN]
    ]
    if len(own) > MAX_OWN:
        lines.append(word("more", lang, count=str(len(own) - MAX_OWN)))
    return [*blocks, section(cut_mrkdwn("\n".join(lines), MAX_TEXT), "own_list")]


def incident_blocks(incidents: Sequence[HomeIncident] | None, lang: Lang) -> list[Block]:
    """Recent incidents of the reader's channels; one line saying so when those are unknown."""
    blocks: list[Block] = [{"type": "divider"}, header(WORDS["incidents"][lang], "incidents")]
    if incidents is None:
        return [*blocks, context(word("incidents_unknown", lang), "incidents_unknown")]
    if not incidents:
        return [*blocks, context(word("incidents_none", lang), "incidents_none")]
    lines = [
        f"• {escape(i.title)} <#{escape(i.channel)}> {i.at:%Y-%m-%d %H:%M} UTC"
        for i in incidents[:MAX_INCIDENTS]
    ]
    return [*blocks, section(cut_mrkdwn("\n".join(lines), MAX_TEXT), "incident_list")]


def inert(blocks: Sequence[Block]) -> list[Block]:
    """``blocks`` without buttons or menus: an answer's buttons act on a message thread, which a
    Home tab does not have (its words stay; block ids made unique within the view)."""
    kept: list[Block] = []
    for n, block in enumerate(blocks):
        if block.get("type") == "actions":
            continue
        copy = {k: v for k, v in block.items() if k != "accessory"}
        copy["block_id"] = f"result{n}"
        kept.append(copy)
    return kept


def _when(r: ApprovalRequest, lang: Lang) -> str:
    at = r.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    return word("expires", lang, id=escape(r.id), at=at, hash=r.plan_hash[:12])
