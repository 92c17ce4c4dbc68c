"""Growth is bounded: what is kept only for a while goes with the hourly prune, a vote counts once
per user and answer, and ``/backup-fix audit`` reads one page of the trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, update

from actions.ledger import Ledger, audit
from actions.resources import ProtectedVm, VaultRef, VmRef
from bot.audit_cli import audit_page
from bot.serve import _prune
from bot.settings import Settings, SettingsError, load_settings
from bot.threads import recall, remember
from bot.unmatched_store import record_unmatched
from store import Store, answered, feedback, open_store, thread_vms, unmatched_pastes

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
VM = ProtectedVm(
    vault=VaultRef("s", "rg", "vault1"),
    vm=VmRef("s", "rg", "vm1"),
    container="c",
    item="i",
    friendly_name="vm1",
    protection_state="Protected",
    health_status="Passed",
    last_backup_status="Healthy",
    last_backup_time=None,
    policy_id="p",
)


def count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def age(store: Store, column: Any, when: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(column.table).values({column.name: when}))


def fill(store: Store, *, at: datetime, n: int) -> None:
    record_unmatched(
        store, excerpt=f"odd {n}", digest=f"h{n}", best=None, source="command", channel="C1", at=at
    )
    store.record_feedback(code="AgentDown", paste_hash=f"{n:064x}", user="U1", helpful=True, at=at)


def test_the_prune_keeps_recent_records_and_the_audit_trail(db_url: str) -> None:
    store = open_store(db_url)
    fill(store, at=NOW - timedelta(days=120), n=1)
    assert store.claim_answer("C1", "1.1", "AgentDown")
    remember(store, "C1", "1.1", VM, "U1")
    age(store, answered.c.answered_at, NOW - timedelta(days=120))
    age(store, thread_vms.c.at, NOW - timedelta(days=120))
    fill(store, at=NOW - timedelta(days=10), n=2)
    assert store.claim_answer("C2", "2.2", "AgentDown")
    Ledger(store).audit("requested", actor="U1")
    with store.engine.begin() as conn:  # an audit record older than any retention
        conn.execute(update(audit).values(at=(NOW - timedelta(days=4000)).isoformat()))

    _prune(store, retention=timedelta(days=90), now=NOW)

    assert count(store, unmatched_pastes) == 1  # the 10-day-old one
    assert count(store, feedback) == 1
    assert count(store, answered) == 1  # C2's claim is from today
    assert recall(store, "C1", "1.1") is None
    assert count(store, audit) == 1  # the record of what was changed is never pruned
    assert store.claim_answer("C1", "1.1", "AgentDown")  # forgotten, so it may be answered again
    store.close()


def test_retention_follows_the_setting(db_url: str) -> None:
    store = open_store(db_url)
    fill(store, at=NOW - timedelta(days=10), n=1)
    _prune(store, retention=Settings(BACKUP_FIX_RETENTION_DAYS=7).retention, now=NOW)  # type: ignore[call-arg]
    assert count(store, unmatched_pastes) == 0
    store.close()


@pytest.mark.parametrize("raw", ["0", "3651", "soon"])
def test_a_bad_retention_fails_naming_the_variable(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_FIX_RETENTION_DAYS", raw)
    with pytest.raises(SettingsError, match="BACKUP_FIX_RETENTION_DAYS"):
        load_settings()


def test_retention_defaults_to_ninety_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKUP_FIX_RETENTION_DAYS", "")
    assert load_settings().retention == timedelta(days=90)


def test_a_vote_counts_once_per_user_and_answer(db_url: str) -> None:
    store = open_store(db_url)
    digest = "c" * 64
    assert store.record_feedback(code="AgentDown", paste_hash=digest, user="U1", helpful=True)
    assert not store.record_feedback(code="AgentDown", paste_hash=digest, user="U1", helpful=False)
    assert not store.record_feedback(code="AgentDown", paste_hash=digest, user="U1", helpful=True)
    assert store.record_feedback(code="AgentDown", paste_hash=digest, user="U2", helpful=False)
    assert store.feedback_counts("AgentDown") == (1, 1)
    store.close()


def test_the_audit_command_reads_one_page(db_url: str) -> None:
    store = open_store(db_url)
    ledger = Ledger(store)
    for n in range(45):
        ledger.audit("requested", actor=f"U{n}")
    statements: list[str] = []
    event.listen(
        store.engine, "before_cursor_execute", lambda *a: statements.append(str(a[2]).upper())
    )
    page = audit_page(store, limit=20)
    assert [r.seq for r in page] == list(range(26, 46))
    older = audit_page(store, limit=20, before=page[0].seq)
    assert [r.seq for r in older] == list(range(6, 26))
    assert [r.seq for r in audit_page(store, limit=20, before=6)] == [1, 2, 3, 4, 5]
    assert all("LIMIT" in s for s in statements if "FROM AUDIT" in s)
    store.close()
