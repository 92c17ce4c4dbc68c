"""An incident in Block Kit: pure functions, English (channel messages), escaped like every reply.

The root message says what failed (item, workload, vault, when, how often), then the diagnosis:
the same short answer a paste of that code gets (``bot.blocks.answer.answer_unit``), with the
same diagnostic and remediation buttons, so a click goes through the same listeners and the same
approval gate. Its fallback text names the vault id, the item and the job, which is what the
click's "which VM is this thread about" reads. Resolved, the message says so and drops buttons.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime

from bot.blocks.answer import answer_unit
from bot.blocks.pack import Reply, Unit, pack
from bot.blocks.text import (
    MAX_TEXT,
    Block,
    code_span,
    context,
    cut_mrkdwn,
    escape,
    header,
    link,
    section,
    shorten,
)
from incidents.state import Incident
from knowledge.answer import compose
from knowledge.loader import KnowledgeBase

PORTAL_LABEL = "Open the alert in the Azure portal"
MAX_MESSAGE_SHOWN = 500  # characters of Azure's own error text, when no answer is known


def hhmm(moment: datetime) -> str:
    """``02:00`` (UTC) for a moment today, else ``2026-03-13 02:00``; the reader sees UTC."""
    return f"{moment:%Y-%m-%d %H:%M}"


def since_line(incident: Incident) -> str:
    """ "failed 3 times since 02:00 UTC" (a repeat), "" for a single failure."""
    if incident.count <= 1:
        return ""
    first = incident.first_failure
    same_day = first.date() == incident.last_failure.date()
    when = f"{first:%H:%M}" if same_day else hhmm(first)
    return f"failed {incident.count} times since {when} UTC"


def vault_name(vault_id: str) -> str:
    """The vault's name, the id's last segment."""
    return vault_id.rstrip("/").rsplit("/", 1)[-1]


def root_reply(incident: Incident, kb: KnowledgeBase, *, actions: Collection[str] = ()) -> Reply:
    """The incident's one root message: open (with the answer and its buttons) or resolved."""
    resolved = incident.status == "resolved"
    title = f"{'Resolved' if resolved else 'Backup failed'}: {incident.item or '?'}"
    mark = "✅" if resolved else "🔴"
    head: list[Block] = [header(f"{mark} {title}", "incident")]
    facts = [
        f"*Item:* {escape(incident.item or '?')}",
        f"*Workload:* {escape(incident.workload or '?')}",
        f"*Vault:* {escape(vault_name(incident.vault_id))}",
        f"*Failed at:* {hhmm(incident.last_failure)} UTC",
    ]
    if incident.code:
        facts.append(f"*Error:* {code_span(incident.code, 100)}")
    head.append(section(cut_mrkdwn("\n".join(facts), MAX_TEXT), "what"))
    state = [since_line(incident)] if since_line(incident) else []
    if resolved and incident.resolved_at is not None:
        state.append(f"resolved at {hhmm(incident.resolved_at)} UTC by a successful backup")
    if incident.portal_link:
        state.append(link(incident.portal_link, PORTAL_LABEL))
    state.append(f"job {code_span(_job_name(incident.last_job), 60)}")
    head.append(context(" · ".join(s for s in state if s), "state"))
    units = [Unit(text=fallback_text(incident), groups=[head])]
    entry = kb.get(incident.code) if incident.code else None
    if entry is not None and not resolved:
        answer = compose(entry, kb, "en", code=incident.code)
        units.append(
            answer_unit(
                answer,
                entry.code,
                "en",
                excerpt=None,
                paste_hash=hashlib.sha256(incident.key.encode()).hexdigest(),
                actions_enabled=actions,
                divider=True,
            )
        )
    elif not resolved:
        units.append(Unit(text="", groups=[_unknown_blocks(incident)]))
    replies = pack(units)
    first = replies[0]
    return Reply(text=fallback_text(incident), blocks=first.blocks)


def _unknown_blocks(incident: Incident) -> list[Block]:
    said = "No answer in the knowledge base for this error yet."
    blocks: list[Block] = [{"type": "divider"}, context(escape(said), "unknown")]
    if incident.message.strip():
        shown = shorten(" ".join(incident.message.split()), MAX_MESSAGE_SHOWN)
        blocks.insert(1, section(f"> {escape(shown)}", "azure_message"))
    return blocks


def fallback_text(incident: Incident) -> str:
    """The notification text; also what a click reads to find the thread's VM (vault id, item
    and job id spelled out)."""
    what = "Resolved" if incident.status == "resolved" else "Backup failed"
    code = f" {incident.code}" if incident.code else ""
    said = (
        f"{what}:{code} {incident.item} ({incident.workload}) in vault {incident.vault_id}, "
        f"job {incident.last_job}"
    )
    return cut_mrkdwn(escape(said), MAX_TEXT)


def repeat_reply(incident: Incident, new_failures: int) -> Reply:
    """The threaded line a repeat adds: how many more, when the last was, the total."""
    more = "Failed again" if new_failures <= 1 else f"Failed {new_failures} more times"
    text = (
        f"{more}, last at {hhmm(incident.last_failure)} UTC "
        f"(job {code_span(_job_name(incident.last_job), 60)}); {since_line(incident)}."
    )
    return Reply(
        text=cut_mrkdwn(escape(f"{more}: {incident.item}"), MAX_TEXT),
        blocks=[section(text, "repeat")],
    )


def resolved_reply(incident: Incident) -> Reply:
    """The threaded line that says the incident is resolved, and by what."""
    when = hhmm(incident.resolved_at) if incident.resolved_at is not None else "?"
    job = _job_name(incident.resolved_by or "")
    text = f"✅ Resolved: a backup of {escape(incident.item)} succeeded at {when} UTC"
    text += f" (job {code_span(job, 60)})." if job else "."
    return Reply(
        text=cut_mrkdwn(escape(f"Resolved: {incident.item}"), MAX_TEXT),
        blocks=[section(text, "resolved")],
    )


def _job_name(job_key: str) -> str:
    """A job key's GUID (its last path segment, without the success mark)."""
    return job_key.removesuffix("#ok").rstrip("/").rsplit("/", 1)[-1]
