"""End-to-end throughput of the HTTP bot: signed events in, replies at a fake Slack on 127.0.0.1.

Run: ``python -m bench.bench_http [--chatter N] [--pastes N] [--clients K]``. Starts the real
``backup-fix serve --http`` as a subprocess, sends chatter (answered by silence) and pastes
(answered with a threaded reply) from K keep-alive client threads, and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.fakes import signing
from tests.fakes.botproc import BotProcess
from tests.fakes.slack_api import FakeSlack

SECRET = "bench-signing-secret"  # noqa: S105 (a throwaway secret for a local run)
PASTE = "Backup failed with UserErrorGuestAgentStatusUnavailable on vm-{n}"
CHATTER = "standup moved to 10:30, bring coffee ({n})"
TARGET_ACK_P99_MS = 50.0
TARGET_CHATTER_EPS = 200.0


@dataclass
class Run:
    """What one load phase measured."""

    name: str
    events: int
    seconds: float
    acks: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    failures: int = 0


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) in milliseconds; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def send_all(
    url: str, texts: list[tuple[str, str, str]], clients: int, run: Run
) -> dict[str, float]:
    """POST one signed message event per (channel, ts, text) from ``clients`` threads."""
    parts = urlsplit(url)
    sent_at: dict[str, float] = {}
    lock = threading.Lock()
    chunks = [texts[i::clients] for i in range(clients)]

    def worker(items: list[tuple[str, str, str]]) -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        for channel, ts, text in items:
            body = json.dumps(
                signing.event_envelope(signing.message(text, channel=channel, ts=ts))
            ).encode()
            headers = signing.signed_headers(SECRET, body, content_type="application/json")
            start = time.perf_counter()
            try:
                conn.request("POST", "/slack/events", body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
                ok = False
            took = time.perf_counter() - start
            with lock:
                sent_at[ts] = time.monotonic() - took
                run.acks.append(took)
                run.failures += not ok
        conn.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent_at


def chatter(url: str, n: int, clients: int) -> Run:
    """Messages the bot must ignore: throughput is acks per second."""
    run = Run("chatter", n, 0.0)
    texts = [("CBENCHCHAT", signing.new_ts(), CHATTER.format(n=i)) for i in range(n)]
    start = time.perf_counter()
    send_all(url, texts, clients, run)
    run.seconds = time.perf_counter() - start
    return run


def pastes(url: str, fake: FakeSlack, n: int, clients: int) -> Run:
    """Pasted errors: throughput counts until the last reply reached the fake."""
    run = Run("pastes", n, 0.0)
    texts = [(f"CBENCH{i % 50}", signing.new_ts(), PASTE.format(n=i)) for i in range(n)]
    fake.reset()
    start = time.perf_counter()
    sent_at = send_all(url, texts, clients, run)
    try:
        calls = fake.wait_for("chat.postMessage", count=n, timeout=max(60.0, n / 10))
    except TimeoutError:
        calls = fake.calls("chat.postMessage")
        run.failures += n - len(calls)
    end = max((c.at for c in calls), default=time.monotonic())
    run.seconds = time.perf_counter() - start - (time.monotonic() - end)
    for call in calls:
        ts = str(call.params.get("thread_ts"))
        if ts in sent_at:
            run.replies.append(call.at - sent_at[ts])
    return run


def table(runs: list[Run], clients: int) -> str:
    """The results as a Markdown table."""
    lines = [
        f"| load ({clients} clients) | events | events/s | ack p50 ms | ack p99 ms "
        "| reply p50 ms | reply p99 ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.name} | {r.events} | {r.events / r.seconds:.0f} | {pct(r.acks, 0.5):.1f} "
            f"| {pct(r.acks, 0.99):.1f} | {pct(r.replies, 0.5):.1f} | {pct(r.replies, 0.99):.1f} "
            f"| {r.failures} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run both phases against a fresh bot; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chatter", type=int, default=3000, help="chatter events (max 100000)")
    parser.add_argument("--pastes", type=int, default=1000, help="paste events (max 100000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--warmup", type=int, default=200, help="untimed events first")
    args = parser.parse_args(argv)
    n_chat, n_paste = min(args.chatter, 100_000), min(args.pastes, 100_000)
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "BACKUP_FIX_DATABASE_URL": f"sqlite:///{Path(tmp) / 'state.db'}",
        }
        bot = BotProcess(env).start()
        try:
            chatter(bot.url, args.warmup, args.clients)
            pastes(bot.url, fake, min(args.warmup, 50), args.clients)
            runs = [chatter(bot.url, n_chat, args.clients)]
            runs.append(pastes(bot.url, fake, n_paste, args.clients))
        finally:
            bot.stop()
    print(table(runs, args.clients))
    chat = runs[0]
    met = chat.events / chat.seconds >= TARGET_CHATTER_EPS and all(
        pct(r.acks, 0.99) <= TARGET_ACK_P99_MS for r in runs
    )
    print(
        f"\ntargets: chatter >= {TARGET_CHATTER_EPS:.0f} events/s, ack p99 <= "
        f"{TARGET_ACK_P99_MS:.0f} ms: {'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
