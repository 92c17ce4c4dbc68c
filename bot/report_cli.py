"""``backup-fix kb report [--since] [--json]``: what real traffic says the knowledge base lacks."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select

from bot.audit_cli import configured_store, parse_since
from bot.settings import load_settings
from bot.unmatched_store import unmatched_since, votes_since
from knowledge.coverage import ZH_SOURCES, UnknownCode, WorkloadCoverage
from knowledge.loader import load_kb
from knowledge.report import Group, Report, build_report
from knowledge.wrap import DEFAULT_WIDTH, wrap
from store import Store, feedback, unmatched_pastes

DEFAULT_SINCE = "7d"
WIDTH = DEFAULT_WIDTH


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
        kb = load_kb(load_settings().kb_dir)  # the one the bot serves; a defect exits 1 (main)
        rows, votes = unmatched_since(store, since), votes_since(store, since)
        report = build_report(since, rows, votes, kb=kb)
        ever = report.unmatched_total or report.votes or _recorded_anything(store)
    finally:
        store.close()
    if args.json:
        out.write(json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n")
    elif not (report.unmatched_total or report.votes or report.unknown):
        out.write(_nothing_line(report, recorded=bool(ever)))
        if report.coverage:
            out.write("\n" + "\n".join(_coverage_lines(report.coverage)) + "\n")
    else:
        out.write(render_text(report))
    return 0


def _recorded_anything(store: Store) -> bool:
    """True when the store holds any unmatched paste or vote, of any age."""
    with store.engine.connect() as conn:
        return any(
            conn.execute(select(table.c.id).limit(1)).first() is not None
            for table in (unmatched_pastes, feedback)
        )


def _nothing_line(report: Report, *, recorded: bool) -> str:
    if recorded:
        return f"Nothing recorded since {_day(report.since)} UTC.\n"
    return "Nothing recorded yet.\n"


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
                    "unknown_codes": sorted({c for r in g.rows for c in r.unknown_codes}),
                }
                for g in report.groups
            ],
        },
        "unknown_codes": [_unknown_json(u) for u in report.unknown],
        "feedback": [
            {"code": v.code, "helped": v.helped, "not_helped": v.not_helped} for v in report.votes
        ],
        "coverage": {
            "entries": sum(w.entries for w in report.coverage),
            "workloads": [_coverage_json(w) for w in report.coverage],
        },
    }


def _unknown_json(u: UnknownCode) -> dict[str, Any]:
    return {
        "code": u.code,
        "family": u.family,
        "count": u.count,
        "sources": dict(sorted(u.sources.items())),
        "channels": len(u.channels),
        "first_seen": u.first_seen.isoformat() if u.first_seen else None,
        "last_seen": u.last_seen.isoformat() if u.last_seen else None,
    }


def _coverage_json(w: WorkloadCoverage) -> dict[str, Any]:
    return {
        "workload": w.workload,
        "entries": w.entries,
        "codes": list(w.codes),
        "with_symptoms": list(w.with_symptoms),
        "with_zh_message": list(w.with_zh_message),
        "zh_prose": {source: list(w.zh_prose[source]) for source in ZH_SOURCES},
        "with_actions": list(w.with_actions),
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
            lines += wrap(example, WIDTH, prefix="      > ", indent="        ")
    lines += ["", *_unknown_lines(report.unknown)]
    lines += ["", 'Feedback (most "didn\'t help" first):']
    if not report.votes:
        lines.append("  no votes")
    else:
        width = max(len(v.code) for v in report.votes)
        lines.append(f"  {'code':<{width}}  didn't help  helped")
        for v in report.votes:
            lines.append(f"  {v.code:<{width}}  {v.not_helped:>11}  {v.helped:>6}")
    if report.coverage:
        lines += ["", *_coverage_lines(report.coverage)]
    return "\n".join(lines) + "\n"


def _unknown_lines(unknown: Sequence[UnknownCode]) -> list[str]:
    lines = [f"Unknown codes (pasted, not in the knowledge base): {len(unknown)}"]
    for u in unknown:
        seen = f"last {_day(u.last_seen)}" if u.last_seen else ""
        lines.append(
            f"  {u.count:>4}x  {u.code}  [{u.family}]  {len(u.channels)} channel(s)  {seen}"
        )
    return lines


def _coverage_lines(workloads: Sequence[WorkloadCoverage]) -> list[str]:
    total = sum(w.entries for w in workloads)
    lines = [
        f"Knowledge-base coverage: {total} entries",
        f"  {'workload':<13}{'entries':>8}{'symptoms':>10}{'zh-TW msg':>11}"
        f"  {'zh-TW prose seed/microsoft/ours':<33}{'actions':>8}",
    ]
    for w in workloads:
        prose = "/".join(str(len(w.zh_prose[s])) for s in ZH_SOURCES)
        lines.append(
            f"  {w.workload:<13}{w.entries:>8}{len(w.with_symptoms):>10}"
            f"{len(w.with_zh_message):>11}  {prose:<33}{len(w.with_actions):>8}"
        )
    for w in workloads:
        lines.append(f"  {w.workload}:")
        parts = [("with symptoms", w.with_symptoms), ("with a zh-TW message", w.with_zh_message)]
        parts += [(f"zh-TW prose by {s}", w.zh_prose[s]) for s in ZH_SOURCES]
        parts += [("with diagnostics/remediations", w.with_actions)]
        for name, codes in parts:
            listed = ", ".join(codes) if codes else "none"
            lines += wrap(f"{name} ({len(codes)}): {listed}", WIDTH, prefix="    ", indent="      ")
    return lines


def _fail(line: str) -> int:
    print(f"backup-fix: {line}", file=sys.stderr)
    return 2
