"""The approval gate (pure) and its persistence: exactly once, audited, tamper-evident."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from actions.approvals import (
    ApprovalRequest,
    Approvers,
    Refusal,
    Status,
    check_approve,
    check_reject,
    new_request,
    plan_hash,
)
from actions.ledger import Ledger
from actions.store import open_store

NOW = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)


def _request(**kw: Any) -> ApprovalRequest:
    base = new_request(
        action="remove_rg_lock",
        params={"lock": "no-delete", "resource_group": "AzureBackupRG_westeurope_1"},
        plan="DELETE lock no-delete on AzureBackupRG_westeurope_1",
        requester="UREQ",
        channel="C1",
        thread_ts="1.0",
        now=NOW,
    )
    return replace(base, **kw)


def test_plan_hash_binds_action_params_and_plan() -> None:
    h = plan_hash("cancel_job", {"job": "a"}, "cancel a")
    assert h == plan_hash("cancel_job", {"job": "a"}, "cancel a")
    assert h != plan_hash("cancel_job", {"job": "b"}, "cancel a")
    assert h != plan_hash("cancel_job", {"job": "a"}, "cancel b")
    assert h != plan_hash("trigger_backup", {"job": "a"}, "cancel a")


def test_approvers_users_and_group_members() -> None:
    approvers = Approvers.parse(["UAPP", "WENT", "SOPS", "bogus"])
    assert approvers.users == {"UAPP", "WENT"}
    assert approvers.groups == {"SOPS"}
    assert approvers.allows("UAPP", {})
    assert approvers.allows("UMEMBER", {"SOPS": ["UMEMBER"]})
    assert not approvers.allows("UMEMBER", {"SOTHER": ["UMEMBER"]})
    assert not Approvers().allows("UAPP", {})


@pytest.mark.parametrize(
    ("user", "is_approver", "presented", "at", "status", "expected"),
    [
        ("UAPP", True, None, NOW, Status.PENDING, None),
        ("UREQ", True, None, NOW, Status.PENDING, Refusal.OWN_REQUEST),
        ("UOTHER", False, None, NOW, Status.PENDING, Refusal.NOT_APPROVER),
        ("UAPP", True, "0" * 64, NOW, Status.PENDING, Refusal.TAMPERED),
        ("UAPP", True, None, NOW + timedelta(minutes=31), Status.PENDING, Refusal.EXPIRED),
        ("UAPP", True, None, NOW, Status.EXPIRED, Refusal.EXPIRED),
        ("UAPP", True, None, NOW, Status.APPROVED, Refusal.ALREADY_DECIDED),
        ("UAPP", True, None, NOW, Status.REJECTED, Refusal.ALREADY_DECIDED),
    ],
)
def test_check_approve(
    user: str,
    is_approver: bool,
    presented: str | None,
    at: datetime,
    status: Status,
    expected: Refusal | None,
) -> None:
    req = _request(status=status)
    got = check_approve(
        req,
        user=user,
        is_approver=is_approver,
        presented_hash=presented or req.plan_hash,
        now=at,
    )
    assert got == expected


def test_requester_may_withdraw_but_others_may_not_reject() -> None:
    req = _request()
    h = req.plan_hash
    assert check_reject(req, user="UREQ", is_approver=False, presented_hash=h, now=NOW) is None
    assert check_reject(req, user="UAPP", is_approver=True, presented_hash=h, now=NOW) is None
    refusal = check_reject(req, user="UX", is_approver=False, presented_hash=h, now=NOW)
    assert refusal == Refusal.NOT_APPROVER


def test_request_round_trips_and_transitions_once(db_url: str) -> None:
    ledger = Ledger(open_store(db_url))
    req = _request()
    ledger.add(req)
    loaded = ledger.get(req.id)
    assert loaded == req
    assert ledger.transition(loaded.id, Status.PENDING, Status.APPROVED, decided_by="UAPP")
    assert not ledger.transition(loaded.id, Status.PENDING, Status.APPROVED, decided_by="UX")
    again = ledger.get(loaded.id)
    assert again is not None
    assert again.status == Status.APPROVED
    assert again.decided_by == "UAPP"
    assert ledger.transition(again.id, Status.APPROVED, Status.RUNNING)
    assert ledger.transition(again.id, Status.RUNNING, Status.SUCCEEDED, outcome={"job": "j1"})
    final = ledger.get(again.id)
    assert final is not None
    assert final.outcome == {"job": "j1"}
    assert ledger.get("nope") is None
    ledger.store.close()


def test_twenty_racing_approvals_win_once(db_url: str) -> None:
    ledger = Ledger(open_store(db_url))
    req = _request()
    ledger.add(req)
    rid = req.id
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(
            pool.map(
                lambda i: ledger.transition(
                    rid, Status.PENDING, Status.APPROVED, decided_by=f"U{i}"
                ),
                range(20),
            )
        )
    assert results.count(True) == 1
    ledger.store.close()


def test_audit_chain_verifies_and_detects_edits_and_deletions(db_url: str) -> None:
    ledger = Ledger(open_store(db_url))
    req = _request()
    seqs = [
        ledger.audit("requested", actor="UREQ", request=req),
        ledger.audit("approved", actor="UAPP", request=req),
        ledger.audit("executed", actor="bot", request=req, correlation_id="corr-1", job="j1"),
        ledger.audit("succeeded", actor="bot", request=req),
    ]
    assert ledger.verify() == []
    records = list(ledger.records())
    assert [r.event for r in records] == ["requested", "approved", "executed", "succeeded"]
    assert records[2].correlation_id == "corr-1"
    assert records[2].detail == {"job": "j1"}
    with ledger.store.engine.begin() as conn:
        conn.execute(text("UPDATE audit SET actor = 'UEVIL' WHERE seq = :s"), {"s": seqs[1]})
    assert any(f"record {seqs[1]}" in p for p in ledger.verify())
    with ledger.store.engine.begin() as conn:
        conn.execute(text("UPDATE audit SET actor = 'UAPP' WHERE seq = :s"), {"s": seqs[1]})
    assert ledger.verify() == []
    with ledger.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit WHERE seq = :s"), {"s": seqs[2]})
    assert any(f"record {seqs[3]}" in p for p in ledger.verify())
    ledger.store.close()


def test_audit_since_filters(db_url: str) -> None:
    ledger = Ledger(open_store(db_url))
    ledger.audit("requested", actor="U1")
    assert len(list(ledger.records(since=datetime.now(UTC) - timedelta(minutes=1)))) == 1
    assert list(ledger.records(since=datetime.now(UTC) + timedelta(minutes=1))) == []
    ledger.store.close()


def test_concurrent_appenders_in_two_processes_keep_one_chain(db_url: str, tmp_path: Path) -> None:
    open_store(db_url).close()
    script = textwrap.dedent(
        f"""
        from actions.ledger import Ledger
        from actions.store import open_store
        ledger = Ledger(open_store({db_url!r}))
        for i in range(25):
            ledger.audit("tick", actor="proc", n=i)
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    ledger = Ledger(open_store(db_url))
    assert len(list(ledger.records())) == 50
    assert ledger.verify() == []
    ledger.store.close()
