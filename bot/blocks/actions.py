"""Block Kit for diagnostics and remediations: the VM menu, reports, approval cards, outcomes.

Pure functions, no Slack calls. Every user-provided or Azure-provided string is escaped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from actions.approvals import ApprovalRequest, Status
from actions.base import Report
from actions.ledger import AuditRecord
from actions.names import LABELS as ACTION_LABELS
from actions.names import is_diagnostic
from actions.resources import Outcome, ProtectedVm
from bot import ids
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
    value,
)

MAX_OPTIONS = 100  # Slack's cap on a static_select
MAX_OPTION_VALUE = 150
MARKS = {True: "✅", False: "⚠️", None: "•"}
STATES = {
    Status.PENDING: "⏳ Waiting for approval",
    Status.APPROVED: "▶️ Approved by {by}: running…",
    Status.RUNNING: "▶️ Approved by {by}: running…",
    Status.SUCCEEDED: "✅ Approved by {by}: done",
    Status.FAILED: "❌ Approved by {by}: failed",
    Status.REJECTED: "🚫 Rejected by {by}",
    Status.EXPIRED: "⌛ Expired: nobody approved it in time",
}


def action_label(name: str) -> str:
    """The button label of an action (English: the approval flow's words are English)."""
    return ACTION_LABELS.get(name, {}).get("en", name)


def item_key(item: ProtectedVm) -> str:
    """A short stable key for a protected item, used as a menu option's value."""
    raw = f"{item.vault.id.casefold()}|{item.vm.id.casefold()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _item_line(item: ProtectedVm) -> str:
    state = ", ".join(s for s in (item.protection_state, item.last_backup_status) if s)
    return f"{item.friendly_name or item.vm.name} ({state or 'unknown'})"


def pick_vm_reply(items: Sequence[ProtectedVm], code: str | None) -> Reply:
    """The "Pick the VM" menu; each option's value is ``key|code``."""
    options = [
        {
            "text": {"type": "plain_text", "text": shorten(_item_line(i), 75)},
            "value": f"{item_key(i)}|{code or ''}"[:MAX_OPTION_VALUE],
        }
        for i in items[:MAX_OPTIONS]
    ]
    if not options:
        text = "None of the configured vaults protects a VM I can act on."
        return Reply(text=text, blocks=[section(escape(text), "pick_vm_none")])
    text = "Which VM is this about? Pick it to run checks and fixes on it."
    select = {
        "type": "static_select",
        "action_id": ids.PICK_VM,
        "placeholder": {"type": "plain_text", "text": "Pick the VM"},
        "options": options,
    }
    return Reply(
        text=text, blocks=[section(escape(text), "pick_vm_text"), *actions([select], "pick_vm")]
    )


def chosen_reply(item: ProtectedVm, user: str | None) -> Reply:
    """The line that says which VM the thread is now about."""
    by = f" (chosen by <@{escape(user)}>)" if user else ""
    text = (
        f"This thread is about *{escape(item.friendly_name or item.vm.name)}* in vault "
        f"*{escape(item.vault.name)}*{by}: protection {escape(item.protection_state or '?')}, "
        f"health {escape(item.health_status or '?')}, last backup "
        f"{escape(item.last_backup_status or '?')}."
    )
    return Reply(text=f"VM: {item.friendly_name or item.vm.name}", blocks=[section(text, "vm")])


def report_reply(report: Report, code: str | None, requestable: Sequence[str]) -> Reply:
    """A diagnostic's findings, summary and request buttons for the fixes it suggests."""
    title = f"{action_label(report.action)}: {report.target}"
    lines = [f"{MARKS[f.ok]} *{escape(f.label)}*: {escape(f.value)}" for f in report.findings]
    blocks: list[Block] = [header(title, "report")]
    blocks += text_blocks("\n".join(lines) or "Nothing to report.", "findings")
    if report.summary:
        blocks.append(context(escape(report.summary), "summary"))
    blocks += actions(request_buttons(code, requestable), "requests")
    return Reply(
        text=cut_mrkdwn(escape(f"{title}. {report.summary}"), MAX_TEXT), blocks=blocks[:50]
    )


def request_buttons(code: str | None, names: Sequence[str]) -> list[Block]:
    """Buttons asking for remediations (and running diagnostics) on the thread's VM."""
    return [
        button(
            action_label(n),
            ids.diagnose_id(n) if is_diagnostic(n) else ids.request_id(n),
            value({"code": code or "", "action": n}),
        )
        for n in names
    ]


def card_blocks(request: ApprovalRequest, *, now: datetime | None = None) -> list[Block]:
    """The approval card in the state ``request`` is in; buttons only while it is pending."""
    pending = request.status == Status.PENDING and (now is None or not request.expired(now))
    status = request.status if pending or request.status != Status.PENDING else Status.EXPIRED
    state = STATES[status].format(by=f"<@{escape(request.decided_by or '?')}>")
    expires = request.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    blocks: list[Block] = [
        header(f"Approval needed: {action_label(request.action)}", "card"),
        section(cut_mrkdwn(f"```{escape(request.plan)}```", MAX_TEXT), "plan"),
        context(
            f"Requested by <@{escape(request.requester)}> · expires {expires} · "
            f"request `{escape(request.id)}` · plan `{request.plan_hash[:12]}`",
            "who",
        ),
        section(state, "state"),
    ]
    if pending:
        data = value({"id": request.id, "hash": request.plan_hash})
        blocks += actions(
            [
                button("Approve", ids.APPROVE, data, style="primary"),
                button("Reject", ids.REJECT, data, style="danger"),
            ],
            "decide",
        )
    return blocks


def card_text(request: ApprovalRequest) -> str:
    """The card's fallback text (notifications)."""
    return f"Approval needed: {action_label(request.action)} (request {request.id})"


def outcome_reply(request: ApprovalRequest, outcome: Outcome) -> Reply:
    """What a remediation did: summary, Azure job id, portal link, correlation id."""
    mark = "✅" if outcome.ok else "❌"
    lines = [f"{mark} *{escape(action_label(request.action))}*: {escape(outcome.summary)}"]
    if outcome.job_id:
        lines.append(f"Azure job: `{escape(outcome.job_id)}`")
    if outcome.portal_url:
        lines.append(link(outcome.portal_url, "Open in the Azure portal"))
    lines += [f"{escape(k)}: {escape(v)}" for k, v in outcome.details.items()]
    blocks = text_blocks("\n".join(lines), "outcome")
    if outcome.correlation_id:
        blocks.append(context(f"correlation id `{escape(outcome.correlation_id)}`", "corr"))
    return Reply(
        text=cut_mrkdwn(f"{action_label(request.action)}: {outcome.summary}", MAX_TEXT),
        blocks=blocks,
    )


def notice_reply(text: str, name: str = "notice") -> Reply:
    """A one-section message (refusals, failures, job status); ``text`` is raw."""
    return Reply(
        text=shorten(text, MAX_TEXT), blocks=[section(escape(shorten(text, MAX_TEXT)), name)]
    )


def audit_reply(records: Sequence[AuditRecord]) -> Reply:
    """The last audit records, one line each."""
    if not records:
        return notice_reply("The audit trail is empty.", "audit")
    lines = [escape(audit_line(r)) for r in records]
    return Reply(
        text="Audit trail",
        blocks=[header("Audit trail", "audit"), *text_blocks("\n".join(lines), "records")],
    )


def audit_line(r: AuditRecord) -> str:
    """One audit record as one line of text."""
    parts = [f"#{r.seq}", r.at, r.event, f"by {r.actor}"]
    if r.request_id:
        parts.append(f"request {r.request_id} ({r.action})")
    if r.plan_hash:
        parts.append(f"plan {r.plan_hash[:12]}")
    if r.correlation_id:
        parts.append(f"corr {r.correlation_id}")
    if r.detail:
        parts.append(" ".join(f"{k}={v}" for k, v in sorted(r.detail.items())))
    return " ".join(parts)
