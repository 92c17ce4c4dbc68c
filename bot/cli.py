"""The ``backup-fix`` command line (CONTRACT.md). Thin: parse, dispatch, print.

Only ``serve`` imports Slack; ``match``, ``diagnose`` and ``kb`` stay offline and start fast.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from knowledge import KnowledgeBaseError
from knowledge.model import WORKLOADS
from knowledge.wrap import DEFAULT_WIDTH

SAMPLE_PATH = (
    Path(__file__).resolve().parent.parent / "knowledge" / "samples" / "az-backup-job.json"
)
MIN_COLUMNS = 20  # narrower than this, wrapping helps nobody


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="backup-fix", description="Answers Azure VM backup failures from a pasted error."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    diag = sub.add_parser("diagnose", help="the reply the bot would post, for a terminal")
    diag.add_argument("text", nargs="?", help="the paste; '-' reads stdin; none: a built-in sample")
    diag.add_argument(
        "--lang", choices=["en", "zh-TW"], help="answer language (default: the paste's)"
    )

    m = sub.add_parser("match", help="machine-readable ranking of the errors in a paste")
    fmt = m.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--json", action="store_true", help="one paste (TEXT, or stdin) -> one JSON")
    fmt.add_argument("--jsonl", action="store_true", help='stdin: JSON lines with "text"')
    m.add_argument("text", nargs="?", help="the paste; '-' or none reads stdin")

    kb = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    check = kb_sub.add_parser("check", help="validate the knowledge base")
    check.add_argument("--dir", type=Path, help="knowledge-base folder (default: the shipped one)")
    imp = kb_sub.add_parser("import", help="draft entries from a Microsoft Docs article")
    imp.add_argument("article", type=Path, help="the article's Markdown file")
    imp.add_argument("--out", type=Path, help="write entries/ and sections/ files here")
    imp.add_argument("--article-id", help="article id for the drafts' doc links")
    imp.add_argument("--overwrite", action="store_true", help="replace existing files in --out")
    imp.add_argument(
        "--workload",
        choices=WORKLOADS,
        help="the drafts' workload (and folder under entries/); default: the article's, "
        "from its file name or title",
    )
    rep = kb_sub.add_parser(
        "report", help='unmatched pastes and "didn\'t help" feedback, grouped (from the store)'
    )
    rep.add_argument("--since", help="ISO-8601, or an age such as 24h or 7d (default: 7d)")
    rep.add_argument("--json", action="store_true", help="machine-readable output")

    audit = sub.add_parser("audit", help="the audit trail of approvals and remediations")
    audit.add_argument(
        "--since", help="only records at or after this: ISO-8601, or an age such as 24h, 30m, 7d"
    )
    audit.add_argument(
        "--verify", action="store_true", help="check the hash chain; exit 1 naming broken records"
    )
    audit.add_argument(
        "--head",
        metavar="H",
        help="with --verify: the chain must end at this head (audit_head in the JSON log)",
    )

    db = sub.add_parser("db", help="the state store's schema (Alembic): upgrade, history, current")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    up = db_sub.add_parser("upgrade", help="bring BACKUP_FIX_DATABASE_URL to the newest revision")
    up.add_argument("--sql", action="store_true", help="print the SQL instead (offline, for a DBA)")
    up.add_argument(
        "--from",
        dest="start",
        metavar="REV",
        help="with --sql: the revision the database is at (`db current`); default: an empty one",
    )
    db_sub.add_parser("history", help="the revisions, newest first")
    db_sub.add_parser("current", help="the revision the database is at (changes nothing)")

    serve = sub.add_parser("serve", help="run the Slack bot")
    serve.add_argument("--http", action="store_true", help="HTTP even when SLACK_APP_TOKEN is set")
    serve.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")  # noqa: S104
    serve.add_argument("--port", type=int, default=3000, help="port (default 3000; 0 = any free)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            from bot.serve import serve_command  # Slack is imported only here.

            return serve_command(args)
        if args.command == "db":
            from bot.db_cli import db_command  # no Slack

            return db_command(args, sys.stdout)
        if args.command == "audit":
            from bot.audit_cli import audit_command

            return audit_command(args, sys.stdout)
        if args.command == "match":
            return _match(args, sys.stdin, sys.stdout)
        if args.command == "diagnose":
            return _diagnose(args, sys.stdin, sys.stdout)
        return _kb(args, sys.stdout)
    except KnowledgeBaseError as exc:
        print(f"backup-fix: knowledge base: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `backup-fix match --jsonl < big | head` is fine
        return 0


def _read(text: str | None, stdin: TextIO) -> str:
    return stdin.read() if text in (None, "-") else str(text)


def _match(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from knowledge.matcher import default_matcher

    matcher = default_matcher()
    if args.json:
        out.write(json.dumps(_analysis_json(matcher, _read(args.text, stdin)), ensure_ascii=False))
        out.write("\n")
        return 0
    for lineno, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        record: Any
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError('each line must be a JSON object with a string "text"')
        except ValueError as exc:
            record = {"line": lineno, "error": str(exc)}
        else:
            record.update(_analysis_json(matcher, record["text"]))
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def _analysis_json(matcher: Any, text: str) -> dict[str, Any]:
    """``matches`` (best first, at most five) and ``unknown_codes`` (never among the matches)."""
    result = matcher.analyse(text)
    return {
        "matches": [{"code": m.code, "score": m.score, "via": m.via} for m in result.matches[:5]],
        "unknown_codes": result.unknown_codes,
    }


def _diagnose(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from knowledge.families import family_answers
    from knowledge.matcher import analyse
    from knowledge.render import render_analysis

    if args.text is None and (stdin.isatty() or not (text := stdin.read()).strip()):
        text = SAMPLE_PATH.read_text(encoding="utf-8")
        out.write(
            "(no paste given: diagnosing the built-in sample, an `az backup job show` error)\n\n"
        )
    elif args.text is not None:
        text = _read(args.text, stdin)
    if not text.strip():
        print("backup-fix: nothing to diagnose: the paste is empty", file=sys.stderr)
        return 2
    analysis = analyse(text)
    families = family_answers(analysis.unknown_codes, text)
    out.write(render_analysis(analysis, lang=args.lang, families=families, width=_columns()))
    return 0


def _columns() -> int:
    """The terminal's width (``COLUMNS`` first), 100 when stdout is not a terminal."""
    return max(MIN_COLUMNS, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def _kb(args: argparse.Namespace, out: TextIO) -> int:
    if args.kb_command == "report":
        from bot.report_cli import report_command  # reads the store; no Slack

        return report_command(args, out)
    if args.kb_command == "check":
        from knowledge.check import check_kb

        report = check_kb(args.dir)
        out.write(report + "\n")
        return 0
    from knowledge.importer import parse_article, write_drafts

    try:
        markdown = args.article.read_text(encoding="utf-8")
        drafts = parse_article(
            markdown, article_id=args.article_id, workload=args.workload, slug=args.article.stem
        )
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"backup-fix: kb import: {args.article}: {exc}", file=sys.stderr)
        return 1
    if not drafts:
        print(f"backup-fix: kb import: {args.article}: no error codes found", file=sys.stderr)
        return 1
    if args.out is None:
        out.write("\n---\n".join(d.to_yaml() for d in drafts))
        return 0
    try:
        paths = write_drafts(drafts, args.out, overwrite=args.overwrite)
    except (OSError, FileExistsError) as exc:
        print(f"backup-fix: kb import: {exc}", file=sys.stderr)
        return 1
    out.write("".join(f"wrote {p}\n" for p in paths))
    return 0
