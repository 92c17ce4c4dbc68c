"""Matcher benchmark: latency, chat throughput, memory and CLI cold start against a naive baseline.

Run as ``python -m bench.bench_matcher [--quick] [--json out.json]``. Prints Markdown, marks each
target PASS or FAIL and exits 0 either way: the figures are for BENCHMARKS.md, not a gate.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rapidfuzz
from rapidfuzz import fuzz, process

from bench.pastes import chat_lines, long_pastes, typical_pastes
from bench.synthetic import synthetic_kb
from knowledge import matcher as matcher_module
from knowledge.loader import KnowledgeBase, load_kb
from knowledge.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
COLD_CODE = "UserErrorGuestAgentStatusUnavailable"
FORBIDDEN = ("slack_bolt", "slack_sdk", "azure")
_IMPORT_CHECK = """
import contextlib, io, json, sys
from bot.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    rc = main(["match", "--json", sys.argv[1]])
bad = sorted(m for m in sys.modules if m.split(".")[0] in {forbidden!r})
print(json.dumps({{"rc": rc, "out": out.getvalue(), "forbidden": bad}}))
"""


def _pin() -> str:
    """Pin this process (and the subprocesses it starts) to the first CPU it may use."""
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError) as exc:  # not Linux: run unpinned and say so
        return f"not pinned ({exc.__class__.__name__})"
    return f"cpu {cpu}"


def _machine(pinned: str) -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git = subprocess.run(
        ["git", "log", "-1", "--format=%h %cs", "--", "knowledge/matcher.py"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "pinned": pinned,
        # Other work on a shared machine shows up as noise in the p99s: say how busy it was.
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "rapidfuzz": rapidfuzz.__version__,
        "matcher": (matcher_module.__doc__ or "").strip().splitlines()[0],
        "matcher_commit": git or "uncommitted",
    }


def _pct(samples: Sequence[int], q: float) -> float:
    """Nearest-rank percentile of nanosecond samples, in milliseconds."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, -(-int(q * len(ordered) * 1000) // 1000) - 1))
    return ordered[rank] / 1e6


def _latencies(
    fn: Callable[[str], object], texts: Sequence[str], *, samples: int, min_s: float, max_s: float
) -> list[int]:
    """Time ``fn`` on each text in turn until enough samples and time, or the time cap."""
    gc.collect()
    out: list[int] = []
    start = time.perf_counter()
    while True:
        text = texts[len(out) % len(texts)]
        t0 = time.perf_counter_ns()
        fn(text)
        out.append(time.perf_counter_ns() - t0)
        elapsed = time.perf_counter() - start
        if (len(out) >= samples and elapsed >= min_s) or (elapsed >= max_s and len(out) >= 5):
            return out


def _rate(fn: Callable[[str], object], lines: Sequence[str], seconds: float) -> float:
    """Lines per second of ``fn`` over ``lines``, looping for at least ``seconds``."""
    gc.collect()
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn(lines[done % len(lines)])
        done += 1
    return done / elapsed


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _bench_kb(name: str, kb: KnowledgeBase, chat: list[str], quick: bool) -> dict[str, Any]:
    typical = typical_pastes(kb, count=60)
    long = long_pastes(kb, count=4)
    gc.collect()
    rss0 = _rss_kib()
    t0 = time.perf_counter_ns()
    matcher = Matcher(kb)
    build_ms = (time.perf_counter_ns() - t0) / 1e6
    rss_mib = (_rss_kib() - rss0) / 1024
    # A second, traced build: tracemalloc slows allocation, so it must not share the timing above.
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    traced = Matcher(kb)
    traced.match(typical[0].text)  # lazily built indexes count too
    traced_mib = (tracemalloc.get_traced_memory()[0] - before) / 2**20
    tracemalloc.stop()
    del traced

    for paste in [*typical, *long]:  # warm-up: caches, lazy indexes, branch predictors
        matcher.match(paste.text)
    for line in chat[:200]:
        matcher.match(line)

    secs = 0.5 if quick else 2.0
    typ = _latencies(matcher.match, [p.text for p in typical], samples=1000 if quick else 6000,
                     min_s=secs, max_s=10)  # fmt: skip
    big = _latencies(matcher.match, [p.text for p in long], samples=40 if quick else 200,
                     min_s=secs, max_s=10)  # fmt: skip
    lines_s = _rate(matcher.match, chat, secs)
    found = sum(any(m.code == p.code for m in matcher.match(p.text)) for p in typical)
    false_hits = sum(bool(matcher.match(line)) for line in chat)

    messages = [m.text for e in kb.entries for m in e.messages]

    def baseline(text: str) -> object:
        return process.extractOne(text, messages, scorer=fuzz.WRatio)

    base_typ = _latencies(baseline, [p.text for p in typical], samples=60, min_s=secs,
                          max_s=2 if quick else 6)  # fmt: skip
    base_lines_s = _rate(baseline, chat, secs)
    return {
        "kb": name,
        "entries": len(kb.entries),
        "messages": len(messages),
        "build_ms": build_ms,
        "rss_mib": rss_mib,
        "traced_mib": traced_mib,
        "typical": {"n": len(typ), "p50_ms": _pct(typ, 0.5), "p99_ms": _pct(typ, 0.99)},
        "long": {"n": len(big), "p50_ms": _pct(big, 0.5), "p99_ms": _pct(big, 0.99)},
        "lines_s": lines_s,
        "found": f"{found}/{len(typical)}",
        "false_hits": f"{false_hits}/{len(chat)}",
        "baseline": {
            "n": len(base_typ),
            "p50_ms": _pct(base_typ, 0.5),
            "p99_ms": _pct(base_typ, 0.99),
            "lines_s": base_lines_s,
        },
        "speedup": lines_s / base_lines_s,
    }


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("backup-fix")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def _cold_start(runs: int) -> dict[str, Any]:
    """Wall time of ``backup-fix match --json CODE`` in fresh processes."""
    cmd = [*_cli(), "match", "--json", COLD_CODE]
    times: list[int] = []
    out = ""
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        times.append(time.perf_counter_ns() - t0)
        out = (
            done.stdout if done.returncode == 0 else f"exit {done.returncode}: {done.stderr[-300:]}"
        )
    try:
        ok = any(m["code"] == COLD_CODE for m in json.loads(out)["matches"])
    except (ValueError, KeyError, TypeError):
        ok = False
    return {
        "command": " ".join(Path(c).name if c == cmd[0] else c for c in cmd),
        "runs": runs,
        "p50_ms": _pct(times, 0.5),
        "p90_ms": _pct(times, 0.9),
        "answers": ok,
        "output": out.strip()[:300],
    }


def _imports() -> dict[str, Any]:
    """What the match path imports: no Slack or Azure module; and its slowest top-level imports."""
    script = _IMPORT_CHECK.format(forbidden=set(FORBIDDEN))
    done = subprocess.run([sys.executable, "-c", script, COLD_CODE], cwd=ROOT, capture_output=True,
                          text=True, check=False)  # fmt: skip
    try:
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {"rc": done.returncode, "forbidden": ["<check failed>"], "out": done.stderr[-300:]}
    argv = [sys.executable, "-X", "importtime", "-m", "bot", "match", "--json", COLD_CODE]
    timed = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    # Self time summed per top-level package says which dependency a slow start comes from.
    per_package: dict[str, int] = {}
    for line in timed.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            package = parts[2].strip().split(".")[0]
            per_package[package] = per_package.get(package, 0) + int(parts[0])
    heaviest = sorted(per_package.items(), key=lambda kv: kv[1], reverse=True)[:8]
    result["slowest"] = [f"{name} {us / 1000:.1f} ms" for name, us in heaviest]
    return result


def _targets(res: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, passed) for each target of the issue."""
    kbs = {r["kb"]: r for r in res["kbs"]}
    out = [
        ("typical paste p99 <= 1 ms, real KB", f"{kbs['real']['typical']['p99_ms']:.3f} ms",
         kbs["real"]["typical"]["p99_ms"] <= 1.0),
        ("typical paste p99 <= 5 ms, 10,000 entries",
         f"{kbs['synthetic-10k']['typical']['p99_ms']:.3f} ms",
         kbs["synthetic-10k"]["typical"]["p99_ms"] <= 5.0),
    ]  # fmt: skip
    for r in res["kbs"]:
        out.append(
            (f"chat lines/s >= 20,000, {r['kb']}", f"{r['lines_s']:,.0f}", r["lines_s"] >= 20000)
        )
        out.append(
            (f"chat lines/s >= 5x baseline, {r['kb']}", f"{r['speedup']:,.1f}x", r["speedup"] >= 5)
        )
    cold = res["cold_start"]
    measured = f"{cold['p50_ms']:.0f} ms (p90 {cold['p90_ms']:.0f} ms)"
    ok = cold["p50_ms"] <= 300 and cold["answers"]
    out.append(("`backup-fix match` cold start p50 <= 300 ms", measured, ok))
    bad = res["imports"]["forbidden"]
    out.append(("no Slack or Azure imports on the match path", ", ".join(bad) or "none", not bad))
    return out


def _markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    lines = [
        f"Run {m['date']}: {m['cpu']}, nproc {m['nproc']}, pinned to {m['pinned']}, load average "
        f"{m['loadavg']} at start, Python {m['python']}, rapidfuzz {m['rapidfuzz']}"
        f"{' (--quick)' if res['quick'] else ''}.",
        f"The benchmark got {m['cpu_share']:.0%} of its CPU while measuring the KBs "
        "(below ~95 %: other work shared the core, figures are pessimistic).",
        f'Matcher: "{m["matcher"]}" (knowledge/matcher.py at {m["matcher_commit"]}).',
        "",
        "| KB | entries | messages | build | memory (traced / RSS) | typical p50 | typical p99 "
        "| 64 KiB p50 | 64 KiB p99 | expected code found |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in res["kbs"]:
        t, g = r["typical"], r["long"]
        lines.append(
            f"| {r['kb']} | {r['entries']:,} | {r['messages']:,} | {r['build_ms']:.1f} ms "
            f"| {r['traced_mib']:.2f} / {r['rss_mib']:.1f} MiB | {t['p50_ms']:.3f} ms "
            f"| {t['p99_ms']:.3f} ms | {g['p50_ms']:.2f} ms | {g['p99_ms']:.2f} ms | {r['found']} |"
        )
    lines += [
        "",
        "| KB | chat lines/s | chat lines matched | baseline lines/s | baseline typical p50 / p99 "
        "| speed-up (lines/s) |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for r in res["kbs"]:
        b = r["baseline"]
        lines.append(
            f"| {r['kb']} | {r['lines_s']:,.0f} | {r['false_hits']} | {b['lines_s']:,.0f} "
            f"| {b['p50_ms']:.2f} / {b['p99_ms']:.2f} ms | {r['speedup']:,.1f}x |"
        )
    cold, imp = res["cold_start"], res["imports"]
    lines += [
        "",
        f"Cold start: `{cold['command']}` x{cold['runs']}: p50 {cold['p50_ms']:.0f} ms, p90 "
        f"{cold['p90_ms']:.0f} ms; answers {COLD_CODE}: {'yes' if cold['answers'] else 'NO'}.",
        f"Import self time by package on that path (-X importtime): {'; '.join(imp['slowest'])}.",
        "",
        "| target | measured | result |",
        "|---|--:|---|",
    ]
    lines += [f"| {t} | {v} | {'PASS' if ok else 'FAIL'} |" for t, v, ok in _targets(res)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measurement, print the Markdown report, optionally write JSON; always 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_matcher", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter loops (figures are noisier)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    res: dict[str, Any] = {"machine": _machine(_pin()), "quick": args.quick, "kbs": []}
    chat = chat_lines(600)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    kbs: list[tuple[str, Callable[[], KnowledgeBase]]] = [
        ("real", load_kb),
        ("synthetic-1k", lambda: synthetic_kb(1_000)),
        ("synthetic-10k", lambda: synthetic_kb(10_000)),
    ]
    for name, build in kbs:
        print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
        res["kbs"].append(_bench_kb(name, build(), chat, args.quick))
    # Below ~95 %, something else ran on the pinned CPU and the figures are pessimistic.
    res["machine"]["cpu_share"] = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    print("cold start ...", file=sys.stderr, flush=True)
    res["cold_start"] = _cold_start(5 if args.quick else 20)
    res["imports"] = _imports()
    if res["imports"]["forbidden"]:
        print(f"FAIL: the match path imports {res['imports']['forbidden']}", file=sys.stderr)
    res["targets"] = [{"target": t, "measured": v, "pass": ok} for t, v, ok in _targets(res)]
    print(_markdown(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
