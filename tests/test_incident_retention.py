"""The hourly prune bounds the incident room's tables too: settled alerts of the inbox and resolved
incidents go after BACKUP_FIX_RETENTION_DAYS; what is still being worked on, and open incidents,
stay whatever their age; jobs are remembered at least as long as a poll may report them again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from bot.serve import _prune
from incidents import inbox
from incidents.model import JobOutcome
from incidents.state import JOB_MEMORY, IncidentState
from store import Store, open_store
from store.tables import alert_inbox, digest_runs, incident_jobs, incidents, slack_outbox

VAULT = (
    "/subscriptions/6f1c2e7a-0000-4000-8000-0000000000a1/resourceGroups/rg-backup/providers/"
    "Microsoft.RecoveryServices/vaults/vault-prod"
)
T0 = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
RETENTION = timedelta(days=90)
NOW = T0 + timedelta(days=120)
CODE = "UserErrorGuestAgentStatusUnavailable"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


def outcome(item: str, *, job: str, at: datetime, ok: bool = False, alert: str = "") -> JobOutcome:
    return JobOutcome(
        source="alert",
        succeeded=ok,
        vault_id=VAULT.lower(),
        item_name=item,
        workload="AzureIaasVM",
        operation="Backup",
        at=at,
        job_id=f"{VAULT}/backupJobs/{job}",
        error_codes=() if ok else (CODE,),
        alert_id=alert,
    )


def rows(store: Store, table: Any, *where: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(table).where(*where)))


def count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def test_settled_alerts_go_after_the_retention_and_unsettled_ones_stay(store: Store) -> None:
    engine = store.engine
    old, recent = NOW - RETENTION - timedelta(days=1), NOW - timedelta(days=2)
    statuses = {"a-done": "done", "a-dropped": "dropped", "a-failed": "failed"}
    statuses |= {"a-new": "new", "a-processing": "processing"}
    for alert in [*statuses, "a-recent"]:
        at = recent if alert == "a-recent" else old
        assert inbox.put(engine, outcome("vm1", job=alert, at=at, alert=alert), now=at)
    with engine.begin() as conn:
        for alert, status in [*statuses.items(), ("a-recent", "done")]:
            conn.execute(
                update(alert_inbox).where(alert_inbox.c.alert_id == alert).values(status=status)
            )

    _prune(store, retention=RETENTION, now=NOW)

    kept = {r.alert_id: r.status for r in rows(store, alert_inbox)}
    # still to be worked on, however old: never lost to the prune
    assert kept == {"a-new": "new", "a-processing": "processing", "a-recent": "done"}


def test_a_prune_before_the_retention_forgets_no_alert(store: Store) -> None:
    at = NOW - RETENTION + timedelta(hours=1)
    assert inbox.put(store.engine, outcome("vm1", job="j", at=at, alert="a1"), now=at)
    with store.engine.begin() as conn:
        conn.execute(update(alert_inbox).values(status="done"))
    _prune(store, retention=RETENTION, now=NOW)
    assert count(store, alert_inbox) == 1


def sent(store: Store, incident_id: int) -> None:
    """Slack took every message of the incident."""
    with store.engine.begin() as conn:
        conn.execute(
            update(slack_outbox)
            .where(slack_outbox.c.incident_id == incident_id)
            .values(status="sent", sent_at=T0)
        )


def test_resolved_incidents_go_after_the_retention_and_open_ones_stay(store: Store) -> None:
    state = IncidentState(store.engine)
    later = NOW - timedelta(days=5)

    def failed(item: str, job: str, at: datetime = T0, channel: str | None = "COPS") -> int:
        found = state.record_failure(
            outcome(item, job=job, at=at), code=CODE, channel=channel, now=at
        )
        assert found is not None
        return found.incident_id

    gone = failed("vm-resolved-long-ago", "j1")
    assert state.record_success(outcome("vm-resolved-long-ago", job="ok1", at=T0, ok=True), now=T0)
    sent(store, gone)
    still_open = failed("vm-still-failing", "j2")
    failed("vm-still-failing", "j3", at=T0 + timedelta(hours=1))  # a repeat: one more message
    sent(store, still_open)
    recent = failed("vm-resolved-lately", "j4", at=later)
    assert state.record_success(
        outcome("vm-resolved-lately", job="ok4", at=later, ok=True), now=later
    )
    sent(store, recent)
    unsent = failed("vm-resolved-not-told", "j5")
    assert state.record_success(outcome("vm-resolved-not-told", job="ok5", at=T0, ok=True), now=T0)
    with store.engine.begin() as conn:
        conn.execute(insert(digest_runs).values(day="2026-01-10", channel="COPS", claimed_at=T0))
        conn.execute(insert(digest_runs).values(day="2026-05-09", channel="COPS", claimed_at=later))

    _prune(store, retention=RETENTION, now=NOW)

    left = {r.id: r.status for r in rows(store, incidents)}
    assert left == {still_open: "open", recent: "resolved", unsent: "resolved"}
    # The open incident keeps its root message's row (its episode's dedupe key); its old repeat
    # line goes, and so do the long-resolved incident's messages.
    kinds = sorted((r.incident_id, r.kind) for r in rows(store, slack_outbox))
    assert (gone, "root") not in kinds
    assert (still_open, "root") in kinds
    assert (still_open, "repeat") not in kinds
    assert {k for i, k in kinds if i == unsent} == {"root", "resolve"}  # not told yet: kept
    assert (recent, "resolve") in kinds
    # 120 days on, every old job is forgotten; the recent ones stay.
    jobs = {r.job_id.rsplit("/", 1)[-1] for r in rows(store, incident_jobs)}
    assert jobs == {"j4", "ok4#ok"}
    assert [r.day for r in rows(store, digest_runs)] == ["2026-05-09"]


def test_jobs_are_remembered_as_long_as_a_poll_may_report_them_again(store: Store) -> None:
    state = IncidentState(store.engine)
    first = outcome("vm1", job="j1", at=T0)
    assert state.record_failure(first, code=CODE, channel=None, now=T0) is not None
    assert state.record_success(outcome("vm1", job="ok", at=T0, ok=True), now=T0)
    short = timedelta(days=3)
    _prune(store, retention=short, now=T0 + JOB_MEMORY - timedelta(days=1))
    assert count(store, incidents) == 0  # resolved more than three days ago
    assert count(store, incident_jobs) == 2
    # The same job polled again is still known: it opens no incident for an old failure.
    again = T0 + JOB_MEMORY - timedelta(days=1)
    assert state.record_failure(first, code=CODE, channel=None, now=again) is None
    _prune(store, retention=short, now=T0 + JOB_MEMORY + timedelta(days=1))
    assert count(store, incident_jobs) == 0
