"""The daily digest (BACKUP_FIX_DIGEST_TIME, UTC): the last 24 hours in one message.

Failures of the last 24 hours grouped by error code, what was fixed through the bot (the audit
trail's succeeded remediations), what is still open. Once per day across replicas: the replica
that inserts the day into ``digest_runs`` queues the message in the same transaction (the outbox
posts it), the others find the day taken.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import Engine, func, select

from bot.blocks.text import MAX_TEXT, Block, code_span, context, cut_mrkdwn, escape, header, section
from incidents import outbox
from incidents.outbox import insert_ignore
from incidents.render import vault_name
from store.tables import audit, digest_runs, incident_jobs, incidents

WINDOW: Final = timedelta(hours=24)
TOP: Final = 15


def due_day(now: datetime, at: time) -> str | None:
    """Today's date (UTC) once ``now`` is past ``at``; None before it."""
    return now.strftime("%Y-%m-%d") if now.time() >= at else None


def gather(engine: Engine, now: datetime) -> dict[str, Any]:
    """The digest's figures: failures by code, fixes, open incidents."""
    since = now - WINDOW
    j, t, a = incident_jobs.c, incidents.c, audit.c
    with engine.connect() as conn:
        failures = [
            (str(r[0]), int(r[1]), int(r[2]))
            for r in conn.execute(
                select(j.code, func.count(), func.count(func.distinct(j.item_key)))
                .where(j.succeeded.is_(False), j.at >= since)
                .group_by(j.code)
                .order_by(func.count().desc(), j.code)
            )
        ]
        fixed = [
            (str(r.action or "?"), str(r.detail or "{}"))
            for r in conn.execute(
                select(a.action, a.detail)
                .where(a.event == "succeeded", a.at >= since.isoformat())
                .order_by(a.seq)
            )
        ]
        still = [
            (str(r.item), str(r.vault_id), str(r.code))
            for r in conn.execute(
                select(t.item, t.vault_id, t.code)
                .where(t.status == "open")
                .order_by(t.first_failure)
                .limit(TOP)
            )
        ]
        open_total = int(conn.execute(select(func.count()).where(t.status == "open")).scalar_one())
    return {"failures": failures, "fixed": fixed, "open": still, "open_total": open_total}


def digest_blocks(figures: dict[str, Any], now: datetime) -> list[Block]:
    """The digest as Block Kit (pure)."""
    blocks: list[Block] = [header(f"Backup digest, {now:%Y-%m-%d}", "digest")]
    failures = figures["failures"]
    lines = [
        f"• {code_span(code or 'unknown', 100)}: {n} failure(s), {items} item(s)"
        for code, n, items in failures[:TOP]
    ]
    if len(failures) > TOP:
        lines.append(f"… and {len(failures) - TOP} more codes")
    said = "\n".join(lines) or "No failed backups."
    blocks.append(section(cut_mrkdwn(f"*Failures in the last 24 h*\n{said}", MAX_TEXT), "failed"))
    fixes = []
    for action, detail in figures["fixed"][:TOP]:
        summary = str(json.loads(detail).get("summary") or "") if detail.startswith("{") else ""
        fixes.append(f"• {escape(action)}" + (f": {escape(summary)}" if summary else ""))
    said = "\n".join(fixes) or "Nothing was fixed through the bot."
    blocks.append(section(cut_mrkdwn(f"*Fixed through the bot*\n{said}", MAX_TEXT), "fixed"))
    still = [
        f"• {escape(item)} ({escape(vault_name(vault))}): {code_span(code or 'unknown', 100)}"
        for item, vault, code in figures["open"]
    ]
    more = figures["open_total"] - len(still)
    if more > 0:
        still.append(f"… and {more} more")
    said = "\n".join(still) or "Nothing is open."
    title = f"*Still open: {figures['open_total']}*"
    blocks.append(section(cut_mrkdwn(f"{title}\n{said}", MAX_TEXT), "open"))
    blocks.append(context("`/backup-fix status` for the estate now", "hint"))
    return blocks


def run_digest(engine: Engine, now: datetime, *, at: time, channel: str) -> bool:
    """Queue today's digest once ``at`` has passed; True for the one replica that did."""
    day = due_day(now, at)
    if day is None:
        return False
    with engine.connect() as conn:
        if conn.execute(select(digest_runs.c.day).where(digest_runs.c.day == day)).first():
            return False
    blocks = digest_blocks(gather(engine, now), now)
    payload = json.dumps({"text": f"Backup digest, {day}", "blocks": blocks}, ensure_ascii=False)
    with engine.begin() as conn:
        row = {"day": day, "channel": channel, "claimed_at": now}
        if insert_ignore(conn, digest_runs, row, digest_runs.c.day) is None:
            return False
        outbox.enqueue(conn, "digest", channel, now=now, payload=payload, payload_key=day)
    return True
