"""``backup-fix kb report [--since] [--json]``: what real traffic says the knowledge base lacks."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from datetime import datetime
from typing import Any, TextIO

from bot.audit_cli import configured_store, parse_since
from bot.unmatched_store import unmatched_since, votes_since
from knowledge.report import Group, Report, build_report

DEFAULT_SINCE = "7d"
WIDTH = 100


def report_command(args: argparse.Namespace, out: TextIO) -> int:
    """Print the report of the period; 2 on a bad --since or an unreachable store."""
    raw = args.since or DEFAULT_SINCE
    try:
        since = parse_since(raw)
    except ValueError:
        return _fail(f"--since: {raw!r} is neither ISO-8601 nor an age like 7d")
    store = configured_store()
    if isinstance(store, str):
        return _fail(store)
    try:
        report = build_report(since, unmatched_since(store, since), votes_since(store, since))
    finally:
        store.close()
    if args.json:
        out.write(json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(render_text(report))
    return 0


def _best(group: Group) -> dict[str, Any] | None:
    best = group.best_suggestion()
    return {"code": best[0], "score": round(best[1], 1)} if best else None


def report_json(report: Report) -> dict[str, Any]:
    """The machine-readable report."""
    return {
        "since": report.since.isoformat(),
        "unmatched": {
            "total": report.unmatched_total,
            "groups": [
                {
                    "count": g.count,
                    "excerpt": g.excerpt,
                    "examples": g.examples(),
                    "best_suggestion": _best(g),
                    "sources": dict(sorted(_tally(r.source for r in g.rows).items())),
                    "channels": len({r.channel for r in g.rows}),
                    "first_seen": min(r.at for r in g.rows).isoformat(),
                    "last_seen": max(r.at for r in g.rows).isoformat(),
                }
                for g in report.groups
            ],
        },
        "feedback": [
            {"code": v.code, "helped": v.helped, "not_helped": v.not_helped} for v in report.votes
        ],
    }


def _tally(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def render_text(report: Report) -> str:
    """The report for a terminal: groups biggest first, then answers ranked by "didn't help"."""
    lines = [f"Knowledge-base report since {_day(report.since)} UTC", ""]
    lines.append(
        f"Unmatched pastes: {report.unmatched_total} in {len(report.groups)} group(s)"
        + ("" if report.groups else " - nothing to learn from yet")
    )
    for n, g in enumerate(report.groups, start=1):
        best = g.best_suggestion()
        hint = f"closest: {best[0]} ({best[1]:.0f})" if best else "no suggestion"
        seen = f"last {_day(max(r.at for r in g.rows))}"
        channels = len({r.channel for r in g.rows})
        lines.append(f"  {n:>2}. {g.count}x  {hint}  {channels} channel(s)  {seen}")
        for example in g.examples():
            wrapped = textwrap.wrap(example, WIDTH - 8) or [""]
            lines.append("      > " + wrapped[0])
            lines.extend("        " + more for more in wrapped[1:])
    lines += ["", 'Feedback (most "didn\'t help" first):']
    if not report.votes:
        lines.append("  no votes")
    else:
        width = max(len(v.code) for v in report.votes)
        lines.append(f"  {'code':<{width}}  didn't help  helped")
        for v in report.votes:
            lines.append(f"  {v.code:<{width}}  {v.not_helped:>11}  {v.helped:>6}")
    return "\n".join(lines) + "\n"


def _fail(line: str) -> int:
    print(f"backup-fix: {line}", file=sys.stderr)
    return 2
