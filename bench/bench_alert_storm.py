"""An alert storm: 2,000 Azure Backup alerts across 300 items on two replicas sharing PostgreSQL.

Each alert is stored the way ``POST /azure/alerts`` stores it (``incidents.inbox.put``), spread
evenly over ``--seconds`` (300 = the issue's 5 minutes; shorter runs compress arrival time, not
Slack's pace). Two replicas (in this process, each with its own engine, inbox worker and outbox
worker, as ``serve`` starts them) share one private PostgreSQL cluster (``tests/fakes/pg.py``) and
post through the real slack_sdk client to the fake Slack over HTTP; the vaults are routed to
``--channels`` channels. Alerts name their error code (the MARS shape), so no job is read.

Checks: every incident posted exactly once (one root per item), every repeat folded in (the
incident's count equals the alerts of its item), Slack's pace per channel (the smallest gap
between two chat.postMessage calls in a channel); reports p50/p99 from an alert's arrival to its
incident's root message.

    .venv/bin/python -m bench.bench_alert_storm [--alerts 2000] [--items 300] [--seconds 300]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select

from bot.incident_slack import SlackOutbox
from incidents import inbox
from incidents.model import JobOutcome
from incidents.post import Poster, Routes
from incidents.process import Processor, Worker
from incidents.state import IncidentState
from knowledge.loader import load_kb
from store import Store, open_store
from store.tables import incidents
from tests.fakes.pg import PrivatePostgres, missing
from tests.fakes.slack_api import FakeSlack

SUB = "5b1c7d52-3a8e-4f3e-9c0a-2f1e8d4b6a71"
VAULTS = 10


def vault(n: int) -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/"
        f"Microsoft.RecoveryServices/vaults/rsv-{n:02d}"
    )


def alert_outcome(vault_id: str, item: str, job: str) -> JobOutcome:
    """What the intake stores for a MARS job-failure alert naming its code."""
    return JobOutcome(
        source="alert",
        succeeded=False,
        vault_id=vault_id.lower(),
        item_name=item,
        workload="FileFolder",
        operation="Backup",
        at=datetime.now(UTC),
        job_id=f"{vault_id.lower()}/backupJobs/{job}",
        error_codes=("SalVhdInitializationError",),
        alert_id=f"/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts/{job}",
        portal_link="https://portal.azure.com/#view/alert",
    )


def replica(url: str, slack_url: str, routes: Routes) -> tuple[Store, list[Worker]]:
    """One replica's store and workers, as ``serve`` starts them."""
    from slack_sdk import WebClient

    store = Store(url)
    state = IncidentState(store.engine)
    kb = load_kb()
    proc = Processor(state, kb, route=routes.channel_for)
    client = WebClient(
        token="xoxb-bench",  # noqa: S106 (the fake Slack's)
        base_url=slack_url,
        timeout=10,
        retry_handlers=[],
    )
    poster = Poster(store.engine, state, SlackOutbox(client), kb)
    workers = [
        Worker("inbox", lambda: proc.work_inbox(store.engine, limit=50), idle=0.2).start(),
        Worker("outbox", poster.step, idle=0.05).start(),
    ]
    return store, workers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--drain", type=float, default=600.0, help="seconds to wait after")
    args = parser.parse_args(argv)
    if (why := missing()) is not None:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    channels = [f"CSTORM{n}" for n in range(args.channels)]
    routes = Routes.parse([f"{vault(n)}={channels[n % len(channels)]}" for n in range(VAULTS)])
    items = [(vault(n % VAULTS), f"srv-{n:04d}") for n in range(args.items)]
    rng = random.Random(10)
    plan = [items[n % len(items)] for n in range(args.alerts)]  # every item at least once
    rng.shuffle(plan)
    with PrivatePostgres() as pg, FakeSlack() as fake:
        open_store(pg.url).close()  # migrate once, as the first replica would
        first: dict[str, float] = {}  # item -> when its first alert arrived (monotonic)
        replicas = [replica(pg.url, fake.api_url, routes) for _ in range(2)]
        writer = Store(pg.url)
        began = time.monotonic()
        for n, (vault_id, item) in enumerate(plan):
            due = began + args.seconds * n / len(plan)
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            outcome = alert_outcome(vault_id, item, str(uuid.uuid4()))
            first.setdefault(item, time.monotonic())
            inbox.put(writer.engine, outcome, now=datetime.now(UTC))
        arrived = time.monotonic() - began

        def roots() -> list[Any]:
            return [c for c in fake.calls("chat.postMessage") if not c.params.get("thread_ts")]

        deadline = time.monotonic() + args.drain
        while len(roots()) < len(items) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(5)  # let the last repeats settle
        for _store, workers in replicas:
            for w in workers:
                w.stop()
        report = measure(fake, writer, items, plan, first, roots(), arrived)
        writer.close()
        for store, _ in replicas:
            store.close()
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


def measure(
    fake: FakeSlack,
    store: Store,
    items: list[tuple[str, str]],
    plan: list[tuple[str, str]],
    first: dict[str, float],
    roots: list[Any],
    arrived: float,
) -> dict[str, Any]:
    """The figures and checks."""
    per_item: dict[str, int] = {}
    latency: list[float] = []
    for call in roots:
        item = str(call.params.get("text")).split(" ")[3]
        per_item[item] = per_item.get(item, 0) + 1
        latency.append(call.at - first[item])
    with store.engine.connect() as conn:
        counts = dict(conn.execute(select(incidents.c.item, incidents.c.count)).all())
        total = int(conn.execute(select(func.count()).select_from(incidents)).scalar_one())
    wanted = {item: sum(1 for _, i in plan if i == item) for _, item in items}
    by_channel: dict[str, list[float]] = {}
    for call in fake.calls("chat.postMessage"):
        by_channel.setdefault(str(call.params.get("channel")), []).append(call.at)
    gaps = [b - a for times in by_channel.values() for a, b in pairwise(times)]
    latency.sort()
    report = {
        "alerts": len(plan),
        "items": len(items),
        "arrival_seconds": round(arrived, 1),
        "incidents": total,
        "roots_posted": len(roots),
        "items_posted_twice": sorted(i for i, n in per_item.items() if n > 1),
        "items_not_posted": sorted(i for _, i in items if i not in per_item),
        "repeats_not_folded": sorted(i for i, n in wanted.items() if counts.get(i) != n),
        "post_messages": len(fake.calls("chat.postMessage")),
        "updates": len(fake.calls("chat.update")),
        "min_gap_per_channel_s": round(min(gaps), 3) if gaps else None,
        "p50_alert_to_root_s": round(statistics.median(latency), 1) if latency else None,
        "p99_alert_to_root_s": round(latency[int(0.99 * (len(latency) - 1))], 1)
        if latency
        else None,
    }
    report["ok"] = not (
        report["items_posted_twice"] or report["items_not_posted"] or report["repeats_not_folded"]
    )
    return report


if __name__ == "__main__":
    raise SystemExit(main())
