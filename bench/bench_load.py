"""Mixed load on two replicas behind a round-robin balancer, sharing one store.

Run: ``python -m bench.bench_load [--seconds 60] [--clients 4]``. Starts two real
``backup-fix serve --http`` processes on 127.0.0.1 against the fake Slack, fake Resource Manager
(HTTPS) and fake managed identity of the acceptance tests, sharing PostgreSQL
(``BACKUP_FIX_TEST_POSTGRES_URL``, a fresh schema) or else one SQLite file. ``--clients`` threads
send chatter, pastes, ``/backup-fix help`` and diagnostic button clicks; one more thread loops
request -> approve -> executed on ``trigger_backup``. Prints a Markdown table: throughput,
p50/p99 latencies per kind, errors, and memory (RSS) per replica.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from actions.approvals import Status
from tests.acceptance.actions_helpers import APPROVE, Driver, diagnose
from tests.acceptance.conftest_actions import (
    APPROVER1,
    CHANNEL,
    PG_ENV,
    SECRET,
    World,
    _pg_schema,
    ask,
    open_thread,
)
from tests.fakes import signing
from tests.fakes.lb import RoundRobinProxy
from tests.fakes.signing import SignedClient

KNOWN = "UserErrorGuestAgentStatusUnavailable"
CHATTER = "standup moved to 10:30, bring coffee ({n})"
PASTE = "Backup failed with " + KNOWN + " on vm-{n}"
MIX = (("chatter", 50), ("paste", 25), ("command", 15), ("diagnostic", 10))


@dataclass
class Stats:
    """Latencies (seconds) and errors per kind, shared by the load threads."""

    ack: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    done: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acked(self, kind: str, seconds: float, ok: bool) -> None:
        """One request's ack time, or an error."""
        with self.lock:
            if ok:
                self.ack[kind].append(seconds)
            else:
                self.errors[kind] += 1


def pct(values: list[float], q: float) -> str:
    """The ``q`` quantile in milliseconds, or ``-`` when there is nothing."""
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]:.1f}"


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return (
        int(fields.get("VmRSS", "0 kB").split()[0]) / 1024,
        int(fields.get("VmHWM", "0 kB").split()[0]) / 1024,
    )


@contextmanager
def store(world: World) -> Iterator[tuple[str, str]]:
    """(URL, description) of the shared store: a fresh PostgreSQL schema, else SQLite."""
    url = os.environ.get(PG_ENV)
    if url:
        yield from ((u, "PostgreSQL (fresh schema)") for u in _pg_schema(url))
    else:
        yield world.sqlite_url(), "SQLite (one file, both replicas)"


Sent = dict[tuple[str, str], float]  # (channel, ts) of a paste -> when it was sent


def mixed(
    client: SignedClient, world: World, diag: Callable[[], int], stats: Stats
) -> Callable[[Sent], None]:
    """One load thread's step: a random kind, weighted by ``MIX``."""
    kinds = [k for k, w in MIX for _ in range(w)]
    counter = iter(range(10**9))

    def step(sent: Sent) -> None:
        kind, n = random.choice(kinds), next(counter)
        start = time.perf_counter()
        if kind == "chatter":
            status = client.event(signing.message(CHATTER.format(n=n), channel="CCHAT")).status
        elif kind == "paste":
            event = signing.message(PASTE.format(n=n), channel="CPASTE")
            at = time.monotonic()
            status = client.event(event).status
            with stats.lock:
                sent[("CPASTE", str(event["ts"]))] = at
        elif kind == "command":
            url = world.slack.response_url()
            status = client.command("help", response_url=url, channel="CCMD").status
        else:
            status = diag()
        stats.acked(kind, time.perf_counter() - start, status == 200)

    return step


def approvals(bot: Driver, world: World, root: str, stats: Stats, stop: threading.Event) -> None:
    """Loop: request trigger_backup, approve it, wait until it ran; the job then completes."""
    ledger = world.ledger(bot.bot.env["BACKUP_FIX_DATABASE_URL"])
    while not stop.is_set():
        try:
            card, _ = ask(bot, root, "trigger_backup")
            approve = card.element(APPROVE)
            assert approve is not None
            start = time.perf_counter()
            clicked = bot.click(card, approve, user=APPROVER1)
            stats.acked("approval click", time.perf_counter() - start, clicked.status == 200)
            request_id = str(json.loads(str(approve.get("value")))["id"])
            while not stop.is_set():
                found = ledger.get(request_id)
                if found is not None and found.status in (Status.SUCCEEDED, Status.FAILED):
                    with stats.lock:
                        if found.status == Status.SUCCEEDED:
                            stats.done["approval click"].append(time.perf_counter() - start)
                        else:
                            stats.errors["approval click"] += 1
                    break
                time.sleep(0.05)
            finish_jobs(world)  # the guardrail refuses a backup while one is in progress
        except (AssertionError, TimeoutError):
            with stats.lock:
                stats.errors["approval click"] += 1


def finish_jobs(world: World) -> None:
    """Mark every running backup job of the fake completed."""
    with world.arm.lock:
        for resource in world.arm.resources.values():
            props = resource.get("properties", {})
            if "/backupjobs/" in resource["id"].lower() and props.get("status") == "InProgress":
                props["status"] = "Completed"


def replies(world: World, sent: Sent) -> tuple[list[float], int]:
    """Paste reply latencies (sent -> chat.postMessage at the fake) and pastes left unanswered."""
    first: dict[tuple[str, str], float] = {}
    for call in world.slack.calls("chat.postMessage"):
        key = (str(call.params.get("channel")), str(call.params.get("thread_ts")))
        if key in sent and key not in first:
            first[key] = call.at
    return [first[k] - sent[k] for k in first], len(sent) - len(first)


def run(seconds: float, clients: int) -> str:
    """The load run; its Markdown report."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        world = World(Path(tmp))
        try:
            ids = world.populate(snapshot_failed=True, lock=False)
            with store(world) as (db, kind):
                return _run(world, ids.vm, db, kind, seconds, clients)
        finally:
            world.stop()


def _run(world: World, vm: str, db: str, kind: str, seconds: float, clients: int) -> str:
    one, two = world.start_bot(db), world.start_bot(db)
    with RoundRobinProxy([one.bot.url, two.bot.url], max_connections=256) as lb:
        slack = Driver(world.slack, one.bot, SECRET)
        slack.client = SignedClient(lb.url, SECRET)
        root = open_thread(slack, "BackUpOperationFailed", vm_id=vm)
        msg, button = slack.find(CHANNEL, root, diagnose("vm_agent_status"))
        stats, sent = Stats(), Sent()
        stop = threading.Event()

        def diag() -> int:
            return slack.click(msg, button, user=APPROVER1).status

        def loop() -> None:
            step = mixed(SignedClient(lb.url, SECRET), world, diag, stats)
            while not stop.is_set():
                step(sent)

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(clients)]
        threads.append(
            threading.Thread(target=approvals, args=(slack, world, root, stats, stop), daemon=True)
        )
        began = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(60)
        elapsed = time.perf_counter() - began
        time.sleep(5)  # replies still in flight
        reply_times, unanswered = replies(world, sent)
        stats.done["paste"] = reply_times
        stats.errors["paste"] += unanswered
        memory = [rss_mib(b.bot.proc.pid) for b in (one, two) if b.bot.proc is not None]
        alive = [b.bot.alive() for b in (one, two)]
        return report(
            stats, elapsed, clients, kind, memory, alive, [lb.served[b.bot.url] for b in (one, two)]
        )


def report(
    stats: Stats,
    elapsed: float,
    clients: int,
    kind: str,
    memory: list[tuple[float, float]],
    alive: list[bool],
    served: list[int],
) -> str:
    """The Markdown tables of one run."""
    lines = [
        f"{elapsed:.0f} s, {clients} load clients + 1 approval loop, 2 replicas behind a "
        f"round-robin balancer, store: {kind}.",
        "",
        "| kind | requests | per s | ack p50 ms | ack p99 ms | done p50 ms | done p99 ms "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total = 0
    for name in ("chatter", "paste", "command", "diagnostic", "approval click"):
        acks = stats.ack.get(name, [])
        total += len(acks)
        done = stats.done.get(name, [])
        lines.append(
            f"| {name} | {len(acks)} | {len(acks) / elapsed:.1f} | {pct(acks, 0.5)} | "
            f"{pct(acks, 0.99)} | {pct(done, 0.5)} | {pct(done, 0.99)} | "
            f"{stats.errors.get(name, 0)} |"
        )
    lines.append(f"| all | {total} | {total / elapsed:.1f} | | | | | |")
    lines += [
        "",
        "| replica | connections | RSS MiB | peak RSS MiB | alive |",
        "|---|---:|---:|---:|---|",
    ]
    for n, ((now, peak), ok, conns) in enumerate(zip(memory, alive, served, strict=True)):
        lines.append(f"| {n + 1} | {conns} | {now:.0f} | {peak:.0f} | {'yes' if ok else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the load, print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="load duration (default 60)")
    parser.add_argument("--clients", type=int, default=4, help="load threads (default 4)")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 64 or not 1 <= args.seconds <= 600:
        parser.error("--clients 1..64, --seconds 1..600")
    print(run(args.seconds, args.clients), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
