"""``/backup-fix status [vm|vault]``: the estate at a glance, from what incidents and polls know.

Open incidents by error code and by workload, the oldest failure, and the items without a
successful backup in 48 hours: those whose open incident began 48 hours ago or more (a success
since would have resolved it). One item or vault: its incidents, open first. Counting happens in
the database (GROUP BY), whatever the estate's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, or_, select

from bot.blocks.text import MAX_TEXT, Block, code_span, context, cut_mrkdwn, escape, header, section
from incidents.render import hhmm, since_line, vault_name
from incidents.state import Incident, IncidentState
from store.tables import incidents

STALE: Final = timedelta(hours=48)
TOP: Final = 10  # lines per list
ONE_LIMIT: Final = 20


@dataclass(frozen=True)
class Estate:
    """The counts and lists ``/backup-fix status`` shows."""

    open_total: int
    by_code: list[tuple[str, int]]
    by_workload: list[tuple[str, int]]
    oldest: Incident | None
    stale: list[Incident]  # open since 48 h or more, oldest first (at most TOP)
    stale_total: int


def estate(state: IncidentState, now: datetime) -> Estate:
    """The estate's open incidents, counted and listed."""
    t = incidents.c
    is_open = t.status == "open"
    with state.engine.connect() as conn:
        total = int(conn.execute(select(func.count()).where(is_open)).scalar_one())
        by_code = [
            (str(r[0]), int(r[1]))
            for r in conn.execute(
                select(t.code, func.count())
                .where(is_open)
                .group_by(t.code)
                .order_by(func.count().desc(), t.code)
                .limit(TOP)
            )
        ]
        by_workload = [
            (str(r[0]), int(r[1]))
            for r in conn.execute(
                select(t.workload, func.count())
                .where(is_open)
                .group_by(t.workload)
                .order_by(func.count().desc(), t.workload)
                .limit(TOP)
            )
        ]
        stale_total = int(
            conn.execute(
                select(func.count(func.distinct(t.item_key))).where(
                    is_open, t.first_failure <= now - STALE
                )
            ).scalar_one()
        )
    oldest = state.select(is_open, order=t.first_failure, limit=1)
    stale = state.select(is_open, t.first_failure <= now - STALE, order=t.first_failure, limit=TOP)
    return Estate(total, by_code, by_workload, oldest[0] if oldest else None, stale, stale_total)


def about(state: IncidentState, target: str) -> list[Incident]:
    """The incidents of an item (its name) or a vault (its name or id), open first, newest."""
    low = target.strip().lower().rstrip("/")
    t = incidents.c
    vault = func.lower(t.vault_id)
    if "/" in low:
        where = vault == low
    else:
        where = or_(func.lower(t.item) == low, vault.endswith(f"/{low}", autoescape=True))
    found = state.select(where, order=t.last_failure.desc(), limit=ONE_LIMIT)
    return sorted(found, key=lambda i: i.status != "open")


def estate_blocks(view: Estate, now: datetime) -> list[Block]:
    """The estate as Block Kit (pure)."""
    blocks: list[Block] = [header("Backup estate", "status")]
    if view.open_total == 0:
        return [*blocks, section("No open incidents.", "status_none")]
    lines = [f"*{view.open_total} open incident{'s' if view.open_total != 1 else ''}*"]
    if view.oldest is not None:
        o = view.oldest
        lines.append(
            f"Oldest failure: {escape(o.item)} since {hhmm(o.first_failure)} UTC "
            f"({code_span(o.code or 'unknown', 100)})"
        )
    blocks.append(section(cut_mrkdwn("\n".join(lines), MAX_TEXT), "status_head"))
    codes = [f"• {code_span(c or 'unknown', 100)}: {n}" for c, n in view.by_code]
    loads = [f"• {escape(w or '?')}: {n}" for w, n in view.by_workload]
    blocks.append(section(cut_mrkdwn("*By error code*\n" + "\n".join(codes), MAX_TEXT), "by_code"))
    blocks.append(
        section(cut_mrkdwn("*By workload*\n" + "\n".join(loads), MAX_TEXT), "by_workload")
    )
    if view.stale_total:
        stale = [
            f"• {escape(i.item)} ({escape(vault_name(i.vault_id))}), failing since "
            f"{hhmm(i.first_failure)} UTC"
            for i in view.stale
        ]
        more = view.stale_total - len(view.stale)
        if more > 0:
            stale.append(f"… and {more} more")
        title = f"*No successful backup in 48 h: {view.stale_total} item(s)*"
        blocks.append(section(cut_mrkdwn("\n".join([title, *stale]), MAX_TEXT), "stale"))
    blocks.append(
        context(f"As of {hhmm(now)} UTC · `/backup-fix status <vm|vault>` for one", "as_of")
    )
    return blocks


def about_blocks(target: str, found: list[Incident]) -> list[Block]:
    """One item's or vault's incidents as Block Kit (pure)."""
    blocks: list[Block] = [header(f"Status: {target}", "status_one")]
    if not found:
        said = f"No incidents known for {code_span(target, 100)}."
        return [*blocks, section(said, "status_one_none")]
    lines = []
    for i in found:
        state = "open" if i.status == "open" else "resolved"
        extra = since_line(i) or f"failed at {hhmm(i.last_failure)} UTC"
        lines.append(
            f"• *{state}* {escape(i.item)} ({escape(vault_name(i.vault_id))}): "
            f"{code_span(i.code or 'unknown', 100)}, {extra}"
        )
    blocks.append(section(cut_mrkdwn("\n".join(lines), MAX_TEXT), "status_one_list"))
    return blocks
