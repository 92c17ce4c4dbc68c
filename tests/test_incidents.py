"""Incidents: state transitions (new, repeat, dedupe across sources, resolve, reopen), routing,
the outbox at Slack's pace (429s, a worker that died between post and record), processing of
inbox rows (job read, throttling), status and the daily digest."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from actions.errors import AzureNotFound, AzureThrottled
from actions.resources import Job, VaultRef
from bot.blocks.pack import Reply
from incidents import digest, inbox, outbox, status
from incidents.model import JobOutcome
from incidents.post import EVENT_TYPE, Poster, RateLimited, Routes
from incidents.process import READ_ATTEMPTS, Processor
from incidents.state import IncidentState
from knowledge.loader import load_kb
from store import Store, open_store
from store.tables import slack_outbox

SUB = "6f1c2e7a-0000-4000-8000-0000000000a1"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-backup"
VAULT = f"{RG}/providers/Microsoft.RecoveryServices/vaults/vault-prod"
T0 = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)
KB = load_kb()
CODE = "UserErrorGuestAgentStatusUnavailable"


class Clock:
    """A settable clock."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def tick(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def failure(
    item: str = "vm-app-01",
    *,
    job: str = "job-1",
    at: datetime = T0,
    codes: tuple[str, ...] = (CODE,),
    source: str = "alert",
    vault: str = VAULT,
    succeeded: bool = False,
) -> JobOutcome:
    return JobOutcome(
        source=source,  # type: ignore[arg-type]
        succeeded=succeeded,
        vault_id=vault.lower() if source == "alert" else vault,
        item_name=item,
        workload="AzureIaasVM",
        operation="Backup",
        at=at,
        job_id=f"{vault}/backupJobs/{job}",
        error_codes=codes,
        error_message="",
        alert_id=f"alert-{job}-{source}" if source == "alert" else "",
        portal_link="https://portal.azure.com/#alert",
    )


@pytest.fixture
def db(tmp_path: Path) -> Store:
    store = open_store(f"sqlite:///{tmp_path / 'incidents.db'}")
    yield store  # type: ignore[misc]
    store.close()


@pytest.fixture
def state(db: Store) -> IncidentState:
    return IncidentState(db.engine)


def queued(db: Store) -> list[tuple[str, int | None, str]]:
    o = slack_outbox.c
    with db.engine.connect() as conn:
        rows = conn.execute(select(o.kind, o.incident_id, o.status).order_by(o.id)).all()
    return [(r.kind, r.incident_id, r.status) for r in rows]


# State transitions ---------------------------------------------------------------------------


def test_a_failure_opens_one_incident_and_queues_its_root(db: Store, state: IncidentState) -> None:
    got = state.record_failure(failure(), code=CODE, channel="CALERTS", now=T0)
    assert got is not None
    assert got.change == "new"
    (incident,) = state.select()
    assert (incident.item, incident.code, incident.count, incident.status) == (
        "vm-app-01",
        CODE,
        1,
        "open",
    )
    assert queued(db) == [("root", incident.id, "new")]


def test_repeats_fold_in_and_coalesce_while_one_waits(db: Store, state: IncidentState) -> None:
    state.record_failure(failure(), code=CODE, channel="CALERTS", now=T0)
    for n in range(2, 5):
        at = T0 + timedelta(minutes=10 * n)
        got = state.record_failure(
            failure(job=f"job-{n}", at=at), code=CODE, channel="CALERTS", now=at
        )
        assert got is not None
        assert got.change == "repeat"
    (incident,) = state.select()
    assert incident.count == 4
    assert incident.first_failure == T0
    assert incident.last_failure == T0 + timedelta(minutes=40)
    assert [k for k, _, _ in queued(db)] == ["root", "repeat"]  # one repeat row for three


def test_a_job_is_reported_once_whether_alert_or_poll_came_first(state: IncidentState) -> None:
    alert = failure(job="88DF0BE3-7C77", source="alert")
    poll = replace(failure(job="88df0be3-7c77", source="poll"), job_id=alert.job_id.lower())
    assert state.record_failure(poll, code=CODE, channel="C1", now=T0) is not None
    assert state.record_failure(alert, code=CODE, channel="C1", now=T0) is None
    assert state.record_failure(poll, code=CODE, channel="C1", now=T0) is None
    (incident,) = state.select()
    assert incident.count == 1


def test_another_code_is_another_incident(state: IncidentState) -> None:
    state.record_failure(failure(), code=CODE, channel="C1", now=T0)
    state.record_failure(failure(job="j2"), code="UserErrorVmNotFound", channel="C1", now=T0)
    assert len(state.select()) == 2


def test_a_later_success_resolves_and_an_earlier_one_does_not(
    db: Store, state: IncidentState
) -> None:
    state.record_failure(failure(at=T0), code=CODE, channel="C1", now=T0)
    early = failure(job="ok-0", at=T0 - timedelta(hours=1), succeeded=True)
    assert state.record_success(early, now=T0) == []
    ok = failure(job="ok-1", at=T0 + timedelta(hours=1), succeeded=True)
    (resolved_id,) = state.record_success(ok, now=T0)
    incident = state.get(resolved_id)
    assert incident is not None
    assert incident.status == "resolved"
    assert incident.resolved_at == T0 + timedelta(hours=1)
    assert [k for k, _, _ in queued(db)] == ["root", "resolve"]
    assert state.record_success(ok, now=T0) == []  # the same success again: nothing


def test_a_failure_after_resolution_reopens_with_a_new_root(
    db: Store, state: IncidentState
) -> None:
    state.record_failure(failure(at=T0), code=CODE, channel="C1", now=T0)
    state.record_success(failure(job="ok", at=T0 + timedelta(hours=1), succeeded=True), now=T0)
    again = failure(job="j3", at=T0 + timedelta(hours=2))
    got = state.record_failure(again, code=CODE, channel="C1", now=T0)
    assert got is not None
    assert got.change == "reopened"
    (incident,) = state.select()
    assert (incident.status, incident.episode, incident.count) == ("open", 2, 1)
    assert [k for k, _, _ in queued(db)] == ["root", "resolve", "root"]


def test_no_channel_records_without_queueing(db: Store, state: IncidentState) -> None:
    state.record_failure(failure(), code=CODE, channel=None, now=T0)
    assert len(state.select()) == 1
    assert queued(db) == []


# Routing -------------------------------------------------------------------------------------


def test_the_most_specific_route_wins() -> None:
    rg = f"/subscriptions/{SUB}/resourceGroups/rg-backup"
    routes = Routes.parse([f"{SUB}=CSUB", f"{VAULT}=CVAULT", f"{rg}=CRG"], default="CDEF")
    assert routes.channel_for(VAULT.lower()) == "CVAULT"
    other_in_rg = f"{rg}/providers/Microsoft.RecoveryServices/vaults/vault-two"
    assert routes.channel_for(other_in_rg) == "CRG"
    other_rg = f"{RG}2/providers/Microsoft.RecoveryServices/vaults/v"
    assert routes.channel_for(other_rg) == "CSUB"  # rg-backup is not a prefix of rg-backup2
    assert routes.channel_for(VAULT.replace(SUB, "0" * 8 + SUB[8:])) == "CDEF"
    assert Routes.parse([], default=None).channel_for(VAULT) is None


@pytest.mark.parametrize("bad", ["nochannel", f"{SUB}=general", "foo=C123", f"{SUB}="])
def test_a_bad_route_is_refused_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match="is not"):
        Routes.parse([bad])


# Posting -------------------------------------------------------------------------------------


@dataclass
class FakePort:
    """A Slack port recording posts; ``limited`` 429s first; ``lose_ts`` drops the next answer."""

    posts: list[tuple[str, Reply, str | None, Any]] = field(default_factory=list)
    updates: list[tuple[str, str, Reply]] = field(default_factory=list)
    limited: int = 0
    crash_after_post: bool = False
    n: int = 0

    def post(
        self, channel: str, reply: Reply, *, thread_ts: str | None = None, metadata: Any = None
    ) -> str:
        if self.limited:
            self.limited -= 1
            raise RateLimited(3)
        self.n += 1
        self.posts.append((channel, reply, thread_ts, metadata))
        if self.crash_after_post:
            self.crash_after_post = False
            raise KeyboardInterrupt  # the worker dies between post and record
        return f"1000.{self.n:06d}"

    def update(self, channel: str, ts: str, reply: Reply) -> None:
        self.updates.append((channel, ts, reply))

    def find(self, channel: str, *, since: datetime, event_type: str, payload: Any) -> str | None:
        for n, (ch, _r, thread, meta) in enumerate(self.posts, 1):
            if (
                ch == channel
                and thread is None
                and meta == {"event_type": event_type, "event_payload": payload}
            ):
                return f"1000.{n:06d}"
        return None


def poster(db: Store, state: IncidentState, port: FakePort, clock: Clock) -> Poster:
    return Poster(db.engine, state, port, KB, clock=clock, interval=1.0)


def drain(p: Poster, clock: Clock, seconds: float = 30.0) -> None:
    end = clock.at + timedelta(seconds=seconds)
    while clock.at < end:
        while p.step():
            pass
        clock.tick(0.25)


def test_one_root_then_repeats_edit_it_and_add_thread_lines(
    db: Store, state: IncidentState
) -> None:
    clock, port = Clock(), FakePort()
    p = poster(db, state, port, clock)
    state.record_failure(failure(), code=CODE, channel="C1", now=T0)
    drain(p, clock, 3)
    ((ch, _root, thread, meta),) = port.posts
    assert (ch, thread, meta["event_type"]) == ("C1", None, EVENT_TYPE)
    for n in (2, 3):
        at = T0 + timedelta(minutes=5 * n)
        state.record_failure(failure(job=f"j{n}", at=at), code=CODE, channel="C1", now=clock())
    drain(p, clock, 5)
    assert len([x for x in port.posts if x[2] is None]) == 1  # still one root
    threaded = [x for x in port.posts if x[2] == "1000.000001"]
    assert len(threaded) == 1
    assert "2 more times" in json.dumps(threaded[0][1].blocks)
    assert "failed 3 times since 02:00" in json.dumps(port.updates[-1][2].blocks)
    state.record_success(failure(job="ok", at=T0 + timedelta(hours=1), succeeded=True), now=clock())
    drain(p, clock, 5)
    assert "Resolved" in port.updates[-1][2].text
    assert "succeeded" in json.dumps(port.posts[-1][1].blocks)


def test_the_pace_is_one_message_per_second_per_channel(db: Store, state: IncidentState) -> None:
    clock, port = Clock(), FakePort()
    p = poster(db, state, port, clock)
    for n in range(6):
        state.record_failure(failure(f"vm-a{n}", job=f"a{n}"), code=CODE, channel="CA", now=T0)
        state.record_failure(failure(f"vm-b{n}", job=f"b{n}"), code=CODE, channel="CB", now=T0)
    sent_at: dict[str, list[datetime]] = {"CA": [], "CB": []}
    for _ in range(40):
        before = len(port.posts)
        p.step()
        if len(port.posts) > before:
            sent_at[port.posts[-1][0]].append(clock())
        clock.tick(0.25)
    for channel, times in sent_at.items():
        assert len(times) == 6, channel
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 1.0, (channel, gaps)


def test_a_429_holds_the_channel_and_loses_nothing(db: Store, state: IncidentState) -> None:
    clock, port = Clock(), FakePort(limited=2)
    p = poster(db, state, port, clock)
    for n in range(3):
        state.record_failure(failure(f"vm-{n}", job=f"j{n}"), code=CODE, channel="C1", now=T0)
    p.step()
    clock.tick(1.5)
    assert p.step() == 0  # held for the Retry-After (3 s)
    drain(p, clock, 20)
    assert sorted(r.text.split(" ")[3] for _, r, _, _ in port.posts) == ["vm-0", "vm-1", "vm-2"]
    assert outbox.waiting(db.engine) == 0


def test_a_worker_that_died_after_posting_leaves_no_duplicate(
    db: Store, state: IncidentState
) -> None:
    clock, port = Clock(), FakePort(crash_after_post=True)
    p = poster(db, state, port, clock)
    state.record_failure(failure(), code=CODE, channel="C1", now=T0)
    with pytest.raises(KeyboardInterrupt):
        p.step()
    clock.tick(120)  # the lease runs out; another replica takes the row
    Poster(db.engine, state, port, KB, clock=clock).step()
    assert len(port.posts) == 1
    (incident,) = state.select()
    assert incident.message_ts == "1000.000001"


# Processing ----------------------------------------------------------------------------------


@dataclass
class Reader:
    """A job reader: ``fail`` raises first, then the job answers with ``title``."""

    title: str = CODE
    fail: list[Exception] = field(default_factory=list)
    calls: int = 0

    def __call__(self, vault_id: str, job_name: str) -> Job:
        self.calls += 1
        if self.fail:
            raise self.fail.pop(0)
        return Job(
            vault=VaultRef.parse(VAULT),
            name=job_name,
            entity="VM-APP-01",
            operation="Backup",
            status="Failed",
            start_time=T0,
            end_time=T0,
            error_code=400001,
            error_title=self.title,
            error_message="VM Agent unable to communicate with Azure Backup",
        )


def test_an_alert_gets_its_code_from_the_job(db: Store, state: IncidentState) -> None:
    reader = Reader()
    proc = Processor(state, KB, route=lambda _v: "C1", read_job=reader, clock=Clock())
    proc.handle(failure(codes=()))
    (incident,) = state.select()
    assert incident.code == CODE
    assert reader.calls == 1


def test_throttled_reads_come_back_later_then_use_the_alert(
    db: Store, state: IncidentState
) -> None:
    clock = Clock()
    reader = Reader(fail=[AzureThrottled("429") for _ in range(READ_ATTEMPTS + 2)])
    proc = Processor(state, KB, route=lambda _v: "C1", read_job=reader, clock=clock)
    inbox.put(db.engine, failure(codes=()), now=T0)
    inbox.put(db.engine, failure("vm-other", job="j2", codes=("UserErrorVmNotFound",)), now=T0)
    assert proc.work_inbox(db.engine) == 1  # the other alert is not held up
    for _ in range(READ_ATTEMPTS + 2):
        clock.tick(3600)
        proc.work_inbox(db.engine)
    assert len(state.select()) == 2  # recorded with what the alert said, never lost
    assert reader.calls == READ_ATTEMPTS  # the last try reads once more, then goes on


def test_a_missing_job_uses_the_alert_at_once(db: Store, state: IncidentState) -> None:
    reader = Reader(fail=[AzureNotFound("404", status=404)])
    proc = Processor(state, KB, route=lambda _v: None, read_job=reader, clock=Clock())
    proc.handle(failure(codes=()), may_defer=True)
    assert len(state.select()) == 1


# Status and digest ---------------------------------------------------------------------------


def test_status_counts_open_incidents_and_finds_stale_items(state: IncidentState) -> None:
    state.record_failure(failure("vm-old", job="o"), code=CODE, channel=None, now=T0)
    later = T0 + timedelta(hours=47)
    state.record_failure(
        failure("vm-new", job="n", at=later), code="UserErrorVmNotFound", channel=None, now=later
    )
    view = status.estate(state, T0 + timedelta(hours=49))
    assert view.open_total == 2
    assert view.stale_total == 1
    assert view.oldest is not None
    assert view.oldest.item == "vm-old"
    text = json.dumps(status.estate_blocks(view, T0))
    assert "vm-old" in text
    assert "No successful backup in 48 h: 1" in text
    assert [i.item for i in status.about(state, "VM-NEW")] == ["vm-new"]
    assert len(status.about(state, "vault-prod")) == 2
    assert status.about(state, "vault-pro") == []


def test_the_digest_is_queued_once_per_day(db: Store, state: IncidentState) -> None:
    state.record_failure(failure(), code=CODE, channel=None, now=T0)
    at = time(8, 0)
    assert not digest.run_digest(db.engine, T0, at=at, channel="C1")  # 02:00: not yet
    nine = T0.replace(hour=9)
    assert digest.run_digest(db.engine, nine, at=at, channel="C1")
    assert not digest.run_digest(db.engine, nine + timedelta(hours=1), at=at, channel="C1")
    o = slack_outbox.c
    with db.engine.connect() as conn:
        (payload,) = conn.execute(select(o.payload).where(o.kind == "digest")).scalars()
        assert conn.execute(select(func.count()).where(o.kind == "digest")).scalar_one() == 1
    assert CODE in payload
    assert "Still open: 1" in payload


# Settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"BACKUP_FIX_ALERT_ROUTES": "somewhere=C1"}, "BACKUP_FIX_ALERT_ROUTES"),
        ({"BACKUP_FIX_ALERT_CHANNEL": "#general"}, "BACKUP_FIX_ALERT_CHANNEL"),
        ({"BACKUP_FIX_DIGEST_TIME": "25:00"}, "BACKUP_FIX_DIGEST_TIME"),
    ],
)
def test_a_bad_incident_setting_names_its_variable(extra: dict[str, str], variable: str) -> None:
    from bot.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as err:
        load_settings(**extra)
    assert err.value.variable == variable


def test_the_incident_settings_read_as_routes_and_a_digest_time() -> None:
    from bot.settings import SettingsError, load_settings

    blank = load_settings(BACKUP_FIX_ALERT_CHANNEL="", BACKUP_FIX_DIGEST_TIME="")
    assert not blank.posts_incidents
    assert blank.digest_at is None
    on = load_settings(
        BACKUP_FIX_ALERT_CHANNEL="CDEF", BACKUP_FIX_ALERT_ROUTES=f" {SUB}=CSUB ,{VAULT}=CVAULT"
    )
    assert on.posts_incidents
    assert Routes.parse(on.alert_routes, default=on.alert_channel).channel_for(VAULT) == "CVAULT"
    assert load_settings(BACKUP_FIX_DIGEST_TIME="7:30").digest_at == time(7, 30)
    alone = load_settings(BACKUP_FIX_DIGEST_TIME="07:30", SLACK_BOT_TOKEN="xoxb-1")
    with pytest.raises(SettingsError, match="BACKUP_FIX_DIGEST_CHANNEL"):
        alone.check_serve(force_http=True)
