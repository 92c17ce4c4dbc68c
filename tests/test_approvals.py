"""The approval gate (pure) and its persistence: exactly once, audited, tamper-evident."""

from __future__ import annotations

import hashlib
import logging
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
    Click,
    Refusal,
    Status,
    bound,
    check_approve,
    check_reject,
    new_request,
    plan_hash,
)
from actions.ledger import KEYED, Ledger, approvals, audit, record_hash
from store import open_store

NOW = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
KEY = bytes(range(32))
CARD = "1.5"  # the card's message ts


def _request(**kw: Any) -> ApprovalRequest:
    base = new_request(
        action="remove_rg_lock",
        params={"lock": "no-delete", "resource_group": "AzureBackupRG_westeurope_1"},
        plan="DELETE lock no-delete on AzureBackupRG_westeurope_1",
        requester="UREQ",
        channel="C1",
        thread_ts="1.0",
        now=NOW,
        key=KEY,
    )
    return replace(base, **{"card_ts": CARD, **kw})


def _click(req: ApprovalRequest, **kw: str) -> Click:
    return Click(
        kw.get("presented", req.plan_hash), kw.get("channel", "C1"), kw.get("message", CARD)
    )


def test_plan_hash_binds_action_params_and_plan_under_the_key() -> None:
    h = plan_hash("cancel_job", {"job": "a"}, "cancel a", key=KEY)
    assert h == plan_hash("cancel_job", {"job": "a"}, "cancel a", key=KEY)
    assert h != plan_hash("cancel_job", {"job": "b"}, "cancel a", key=KEY)
    assert h != plan_hash("cancel_job", {"job": "a"}, "cancel b", key=KEY)
    assert h != plan_hash("trigger_backup", {"job": "a"}, "cancel a", key=KEY)
    assert h != plan_hash("cancel_job", {"job": "a"}, "cancel a", key=b"x" * 32)
    # Not the plain SHA-256 anyone could recompute from the stored row.
    canonical = '{"action":"cancel_job","params":{"job":"a"},"plan":"cancel a"}'
    assert h != hashlib.sha256(canonical.encode()).hexdigest()


def test_a_request_edited_in_the_database_no_longer_binds() -> None:
    req = _request()
    assert bound(req, key=KEY)
    edited = replace(req, params={**req.params, "resource_group": "rg-prod"})
    assert not bound(edited, key=KEY)
    # Whoever edits the row cannot make the hash match without the key.
    forged = replace(
        edited, plan_hash=plan_hash(edited.action, edited.params, edited.plan, key=b"\0" * 32)
    )
    assert not bound(forged, key=KEY)
    got = check_approve(
        forged, user="UAPP", is_approver=True, click=_click(forged), now=NOW, key=KEY
    )
    assert got == Refusal.TAMPERED


@pytest.mark.parametrize(
    ("channel", "message", "card"),
    [
        ("C2", CARD, CARD),  # the card's value copied into another channel's message
        ("C1", "9.9", CARD),  # ... or into another message of the same channel
        ("C1", "", CARD),  # an ephemeral copy has no message ts
        ("C1", CARD, None),  # a request whose card was never posted
    ],
)
def test_only_the_cards_own_message_may_decide(
    channel: str, message: str, card: str | None
) -> None:
    req = _request(card_ts=card)
    click = _click(req, channel=channel, message=message)
    for check in (check_approve, check_reject):
        got = check(req, user="UAPP", is_approver=True, click=click, now=NOW, key=KEY)
        assert got == Refusal.WRONG_CHANNEL


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
    click = _click(req, presented=presented or req.plan_hash)
    got = check_approve(req, user=user, is_approver=is_approver, click=click, now=at, key=KEY)
    assert got == expected


def test_requester_may_withdraw_but_others_may_not_reject() -> None:
    req = _request()
    c = _click(req)
    assert check_reject(req, user="UREQ", is_approver=False, click=c, now=NOW, key=KEY) is None
    assert check_reject(req, user="UAPP", is_approver=True, click=c, now=NOW, key=KEY) is None
    refusal = check_reject(req, user="UX", is_approver=False, click=c, now=NOW, key=KEY)
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
        from store import open_store
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


def test_the_guarded_update_refuses_a_request_that_expired_meanwhile(db_url: str) -> None:
    ledger = Ledger(open_store(db_url), key=KEY)
    req = _request()  # expires at NOW + 30 minutes
    ledger.add(req)
    late = req.expires_at + timedelta(seconds=1)
    assert not ledger.transition(req.id, Status.PENDING, Status.APPROVED, live_at=late)
    assert not ledger.transition(req.id, Status.PENDING, Status.APPROVED, live_at=req.expires_at)
    stored = ledger.get(req.id)
    assert stored is not None
    assert stored.status == Status.PENDING
    in_time = req.expires_at - timedelta(seconds=1)
    assert ledger.transition(req.id, Status.PENDING, Status.APPROVED, live_at=in_time)
    ledger.store.close()


def test_running_requests_note_what_the_call_returned_and_threads_list_their_requests(
    db_url: str,
) -> None:
    ledger = Ledger(open_store(db_url), key=KEY)
    req = _request(status=Status.APPROVED)
    ledger.add(req)
    assert not ledger.note(req.id, "r1", {"phase": "calling"})  # not running yet
    assert ledger.start_running(req.id, "r1", NOW)
    assert not ledger.note(req.id, "r2", {"phase": "calling"})  # not the lease holder
    assert ledger.note(req.id, "r1", {"phase": "returned", "job_id": "j1"})
    assert ledger.get(req.id).outcome == {"phase": "returned", "job_id": "j1"}  # type: ignore[union-attr]
    assert [r.id for r in ledger.in_thread("C1", "1.0")] == [req.id]
    assert ledger.in_thread("C1", "2.0") == []
    assert ledger.in_thread("C2", "1.0") == []
    ledger.store.close()


def _events(ledger: Ledger) -> list[str]:
    return [r.event for r in ledger.records()]


def test_the_keyed_chain_cannot_be_rewritten_without_the_key(db_url: str) -> None:
    ledger = Ledger(open_store(db_url), key=KEY)
    req = _request()
    for event in ("requested", "approved", "succeeded"):
        ledger.audit(event, actor="UAPP", request=req)
    assert _events(ledger) == [KEYED, "requested", "approved", "succeeded"]
    assert ledger.verify() == []
    # Rewrite record 3 and recompute its hash the way the old plain chain was computed: the
    # link of record 4 still holds, but the keyed hash does not.
    with ledger.store.engine.begin() as conn:
        row = conn.execute(audit.select().where(audit.c.seq == 3)).first()
        assert row is not None
        fields = {**row._mapping, "actor": "UEVIL"}
        conn.execute(
            audit.update()
            .where(audit.c.seq == 3)
            .values(actor="UEVIL", hash=record_hash(row.prev_hash, fields))
        )
        conn.execute(
            audit.update()
            .where(audit.c.seq == 4)
            .values(prev_hash=record_hash(row.prev_hash, fields))
        )
    problems = ledger.verify()
    assert any("record 3" in p for p in problems), problems
    assert any("record 4" in p for p in problems), problems
    assert Ledger(ledger.store, key=b"\1" * 32).verify() != []  # another key: nothing verifies
    ledger.store.close()


def test_a_plain_chain_is_continued_keyed_and_still_verifies(db_url: str) -> None:
    store = open_store(db_url)
    old = Ledger(store)  # before BACKUP_FIX_SIGNING_KEY
    old.audit("refused", actor="U1", reason="not_approver")
    old.audit("refused", actor="U2", reason="not_approver")
    assert old.verify() == []
    keyed = Ledger(store, key=KEY)
    keyed.audit("requested", actor="UREQ")
    keyed.audit("approved", actor="UAPP")
    assert _events(keyed) == ["refused", "refused", KEYED, "requested", "approved"]
    marker = list(keyed.records())[2]
    assert marker.detail == {"unkeyed_before": 3}
    assert keyed.verify() == []
    # Without the key the keyed records cannot be checked, and say so.
    assert [p.split(":")[0] for p in Ledger(store).verify()] == ["record 3", "record 4", "record 5"]
    # The keyed part cannot be passed off as plain: dropping the marker breaks the chain.
    with store.engine.begin() as conn:
        conn.execute(audit.delete().where(audit.c.event == KEYED))
    assert keyed.verify() != []
    store.close()


def test_the_head_is_logged_and_records_cut_off_the_end_show_against_it(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = Ledger(open_store(db_url), key=KEY)
    with caplog.at_level(logging.INFO, logger="actions.ledger"):
        for n in range(4):
            ledger.audit("tick", actor="bot", n=n)
    heads = [getattr(r, "audit_head", None) for r in caplog.records]
    logged = [h for h in heads if h]
    assert len(logged) == 4
    head = ledger.head()
    assert head is not None
    assert logged[-1] == head[1]
    assert ledger.verify(head=logged[-1]) == []
    # Cut the last record off: the chain is still consistent, but no longer ends at the head.
    with ledger.store.engine.begin() as conn:
        conn.execute(audit.delete().where(audit.c.seq == head[0]))
    assert ledger.verify() == []
    cut = ledger.verify(head=logged[-1])
    assert len(cut) == 1
    assert "cut off" in cut[0]
    # A head from before the end: records were added after it.
    assert "goes on after" in ledger.verify(head=logged[0])[0]
    ledger.store.close()


def test_approvals_table_holds_no_key(db_url: str) -> None:
    ledger = Ledger(open_store(db_url), key=KEY)
    ledger.add(_request())
    ledger.audit("requested", actor="UREQ")
    with ledger.store.engine.connect() as conn:
        dumped = repr([tuple(r) for r in conn.execute(approvals.select())])
        dumped += repr([tuple(r) for r in conn.execute(audit.select())])
    assert KEY.hex() not in dumped
    assert repr(KEY) not in dumped
    ledger.store.close()
