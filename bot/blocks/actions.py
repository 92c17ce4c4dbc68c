"""Block Kit for diagnostics and remediations: the VM menu, reports, approval cards, outcomes.

Pure functions, no Slack calls. Every user-provided or Azure-provided string is escaped. The
words around them come in the reader's language (``lang``, English by default); the plan text
and Azure's own values stay as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from actions.approvals import ApprovalRequest, Status
from actions.base import Report
from actions.ledger import AuditRecord
from actions.names import action_label, is_diagnostic
from actions.resources import Outcome, ProtectedVm
from bot import ids
from bot.blocks.labels import finding_label, label
from bot.blocks.pack import Reply
from bot.blocks.text import (
    MAX_TEXT,
    Block,
    actions,
    button,
    context,
    cut_mrkdwn,
    escape,
    header,
    link,
    section,
    shorten,
    text_blocks,
    tr,
    value,
)
from knowledge.model import Lang

MAX_OPTIONS = 100  # Slack's cap on a static_select
MAX_OPTION_VALUE = 150
MARKS = {True: "✅", False: "⚠️", None: "•"}
NOTIFY: dict[Lang, str] = {"en": "Waiting for: {who}", "zh-TW": "等待核准：{who}"}
STATES = {  # the label of the card's state line
    Status.PENDING: "state_pending",
    Status.APPROVED: "state_running",
    Status.RUNNING: "state_running",
    Status.SUCCEEDED: "state_succeeded",
    Status.FAILED: "state_failed",
    Status.REJECTED: "state_rejected",
    Status.EXPIRED: "state_expired",
}


def item_key(item: ProtectedVm) -> str:
    """A short stable key for a protected item, used as a menu option's value."""
    raw = f"{item.vault.id.casefold()}|{item.vm.id.casefold()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _item_line(item: ProtectedVm, lang: Lang) -> str:
    state = ", ".join(s for s in (item.protection_state, item.last_backup_status) if s)
    return f"{item.friendly_name or item.vm.name} ({state or label('vm_state_unknown', lang)})"


def pick_vm_reply(items: Sequence[ProtectedVm], code: str | None, *, lang: Lang = "en") -> Reply:
    """The "Pick the VM" menu; each option's value is ``key|code``."""
    options = [
        {
            "text": {"type": "plain_text", "text": shorten(_item_line(i, lang), 75)},
            "value": f"{item_key(i)}|{code or ''}"[:MAX_OPTION_VALUE],
        }
        for i in items[:MAX_OPTIONS]
    ]
    if not options:
        text = tr("pick_none", lang)
        return Reply(text=text, blocks=[section(text, "pick_vm_none")])
    text = tr("pick_text", lang)
    select = {
        "type": "static_select",
        "action_id": ids.PICK_VM,
        "placeholder": {"type": "plain_text", "text": label("pick_placeholder", lang)},
        "options": options,
    }
    return Reply(text=text, blocks=[section(text, "pick_vm_text"), *actions([select], "pick_vm")])


def chosen_reply(item: ProtectedVm, user: str | None, *, lang: Lang = "en") -> Reply:
    """The line that says which VM the thread is now about."""
    name = item.friendly_name or item.vm.name
    text = tr(
        "chosen",
        lang,
        vm=escape(name),
        vault=escape(item.vault.name),
        by=tr("chosen_by", lang, user=f"<@{escape(user)}>") if user else "",
        protection=escape(item.protection_state or "?"),
        health=escape(item.health_status or "?"),
        last=escape(item.last_backup_status or "?"),
    )
    said = escape(label("chosen_text", lang), markup=True).format(vm=escape(name))
    return Reply(text=said, blocks=[section(text, "vm")])


def report_reply(
    report: Report, code: str | None, requestable: Sequence[str], *, lang: Lang = "en"
) -> Reply:
    """A diagnostic's findings, summary and request buttons for the fixes it suggests."""
    title = f"{action_label(report.action, lang)}: {report.target}"
    lines = [
        f"{MARKS[f.ok]} *{escape(finding_label(f.label, lang))}*: {escape(f.value)}"
        for f in report.findings
    ]
    summary = finding_label(report.summary, lang)
    blocks: list[Block] = [header(title, "report")]
    blocks += text_blocks("\n".join(lines) or tr("nothing_to_report", lang), "findings")
    if summary:
        blocks.append(context(escape(summary), "summary"))
    blocks += actions(request_buttons(code, requestable, lang=lang), "requests")
    return Reply(text=cut_mrkdwn(escape(f"{title}. {summary}"), MAX_TEXT), blocks=blocks[:50])


def request_buttons(code: str | None, names: Sequence[str], *, lang: Lang = "en") -> list[Block]:
    """Buttons asking for remediations (and running diagnostics) on the thread's VM."""
    return [
        button(
            action_label(n, lang),
            ids.diagnose_id(n) if is_diagnostic(n) else ids.request_id(n),
            value({"code": code or "", "action": n}),
        )
        for n in names
    ]


def card_blocks(
    request: ApprovalRequest,
    *,
    now: datetime | None = None,
    lang: Lang = "en",
    editable: bool = False,
    notify: str = "",
) -> list[Block]:
    """The approval card in the state ``request`` is in; buttons only while it is pending.
    ``editable`` adds "Change parameters" (for actions whose parameters can be chosen).
    ``notify`` is the approvers' live mentions (``bot.approvers.approver_mentions``, built from
    configuration only), shown while the request is pending."""
    pending = request.status == Status.PENDING and (now is None or not request.expired(now))
    status = request.status if pending or request.status != Status.PENDING else Status.EXPIRED
    by = f"<@{escape(request.decided_by or '?')}>"
    state = tr(STATES[status], lang, by=by)  # unused placeholders are ignored by format()
    successor = request.outcome.get("superseded_by") if status == Status.REJECTED else None
    if isinstance(successor, str):
        state = tr("state_superseded", lang, by=by, id=escape(successor))
    expires = request.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    who = tr(
        "card_who",
        lang,
        user=f"<@{escape(request.requester)}>",
        expires=expires,
        id=escape(request.id),
        hash=request.plan_hash[:12],
    )
    blocks: list[Block] = [
        header(label("card_title", lang).format(action=action_label(request.action, lang)), "card"),
        section(cut_mrkdwn(f"```{escape(request.plan)}```", MAX_TEXT), "plan"),
        context(who, "who"),
        section(state, "state"),
    ]
    if pending and notify:
        blocks.append(context(NOTIFY[lang].format(who=notify), "notify"))
    if pending:
        data = value({"id": request.id, "hash": request.plan_hash})
        decide = [
            button(label("approve", lang), ids.APPROVE, data, style="primary"),
            button(label("reject", lang), ids.REJECT, data, style="danger"),
        ]
        if editable:
            decide.append(button(label("edit_params", lang), ids.EDIT_PARAMS, data))
        blocks += actions(decide, "decide")
    return blocks


def card_text(request: ApprovalRequest, *, lang: Lang = "en", notify: str = "") -> str:
    """The card's fallback text (notifications), starting with ``notify``'s mentions if any."""
    action = action_label(request.action, lang)
    said = escape(label("card_text", lang), markup=True).format(
        action=escape(action), id=escape(request.id)
    )
    return f"{notify} {said}" if notify else said


def outcome_reply(request: ApprovalRequest, outcome: Outcome, *, lang: Lang = "en") -> Reply:
    """What a remediation did: summary, Azure job id, portal link, correlation id."""
    mark = "✅" if outcome.ok else "❌"
    action = action_label(request.action, lang)
    lines = [f"{mark} *{escape(action)}*: {escape(outcome.summary)}"]
    if outcome.job_id:
        lines.append(tr("azure_job", lang, job=escape(outcome.job_id)))
    if outcome.portal_url:
        lines.append(link(outcome.portal_url, label("open_portal", lang)))
    lines += [f"{escape(k)}: {escape(v)}" for k, v in outcome.details.items()]
    blocks = text_blocks("\n".join(lines), "outcome")
    if outcome.correlation_id:
        blocks.append(context(tr("correlation", lang, id=escape(outcome.correlation_id)), "corr"))
    said = f"{escape(action)}: {escape(outcome.summary)}"
    return Reply(text=cut_mrkdwn(said, MAX_TEXT), blocks=blocks)


def notice_reply(text: str, name: str = "notice") -> Reply:
    """A one-section message (refusals, failures, job status); ``text`` is raw."""
    said = cut_mrkdwn(escape(text), MAX_TEXT)
    return Reply(text=said, blocks=[section(said, name)])


def audit_reply(records: Sequence[AuditRecord], *, lang: Lang = "en") -> Reply:
    """The last audit records, one line each."""
    if not records:
        return notice_reply(label("audit_empty", lang), "audit")
    lines = [escape(audit_line(r, lang=lang)) for r in records]
    title = label("audit_title", lang)
    return Reply(
        text=escape(title, markup=True),
        blocks=[header(title, "audit"), *text_blocks("\n".join(lines), "records")],
    )


def audit_line(r: AuditRecord, *, lang: Lang = "en") -> str:
    """One audit record as one line of text (event names and ids stay as recorded)."""
    parts = [f"#{r.seq}", r.at, r.event, label("audit_by", lang).format(actor=r.actor)]
    if r.request_id:
        parts.append(label("audit_request", lang).format(id=r.request_id, action=r.action))
    if r.plan_hash:
        parts.append(label("audit_plan", lang).format(hash=r.plan_hash[:12]))
    if r.correlation_id:
        parts.append(label("audit_corr", lang).format(id=r.correlation_id))
    if r.detail:
        parts.append(" ".join(f"{k}={v}" for k, v in sorted(r.detail.items())))
    return " ".join(parts)
