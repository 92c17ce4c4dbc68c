"""Incidents: one per protected item and error code, folded, resolved, told to Slack once.

``record_failure`` and ``record_success`` run in one transaction each: the job goes into
``incident_jobs`` first (a job already there, by alert or by poll, changes nothing), then the
incident is created, folded into (count, last failure) or reopened, and the Slack work it causes
goes into the outbox in the same transaction, so a crash never leaves one without the other.
Every change is a single conditional UPDATE or INSERT (no read-then-write), which keeps replicas
sharing PostgreSQL, and SQLite's one writer, consistent. Time comes from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import Connection, Engine, case, delete, exists, select, update

from incidents import outbox
from incidents.model import JobOutcome
from incidents.outbox import insert_ignore
from store.tables import digest_runs, incident_jobs, incidents, slack_outbox

MAX_MESSAGE = 2000  # characters kept of Azure's error text
# Jobs are remembered at least this long whatever the retention: a poll may look back as far as
# Resource Graph keeps jobs (14 days), and a job forgotten sooner would be reported again.
JOB_MEMORY: Final = timedelta(days=15)
Change = Literal["new", "repeat", "reopened", "late"]


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident row as the rest of the package reads it."""

    id: int
    key: str
    item_key: str
    vault_id: str
    item: str
    item_id: str
    workload: str
    code: str
    message: str
    portal_link: str
    channel: str | None
    message_ts: str | None
    status: str
    episode: int
    first_failure: datetime
    last_failure: datetime
    count: int
    noted: int
    last_job: str
    resolved_at: datetime | None
    resolved_by: str | None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a failure did: its incident and the change (``late``: older than a resolution)."""

    incident_id: int
    change: Change


def item_key(outcome: JobOutcome) -> str:
    """The item an outcome is about, as Resource Graph's SUCCEEDED_BACKUPS spells it: the
    vault's id and the item's name, lower case."""
    return f"{outcome.vault_id.rstrip('/').lower()}/{outcome.item_name.lower()}"[:768]


def job_key(outcome: JobOutcome) -> str:
    """The dedupe key of a job: its id in lower case (alerts and polls agree on it), else the
    alert's id; a success is keyed apart, so a Resolved alert of a failed job still counts."""
    key = outcome.job_id.lower() or f"alert:{outcome.alert_id.lower()}"
    return (key[:590] + "#ok") if outcome.succeeded else key[:600]


def utc(moment: datetime) -> datetime:
    """``moment`` as timezone-aware UTC (SQLite hands back naive datetimes)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class IncidentState:
    """The incident tables over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record_failure(
        self, outcome: JobOutcome, *, code: str, channel: str | None, now: datetime
    ) -> Recorded | None:
        """Fold a failed job into its incident; None when the job was reported before."""
        at, key, items = utc(outcome.at), item_key(outcome), item_key(outcome)
        ikey = f"{items}|{code}"[:800]
        t = incidents.c
        with self.engine.begin() as conn:
            jid = job_key(outcome)
            job = {
                "job_id": jid,
                "incident_id": None,
                "item_key": items,
                "code": code[:100],
                "source": outcome.source,
                "succeeded": False,
                "at": at,
            }
            if insert_ignore(conn, incident_jobs, job, incident_jobs.c.job_id) is None:
                return None
            fresh = {
                "key": ikey,
                "item_key": key,
                "vault_id": outcome.vault_id[:512],
                "item": outcome.item_name[:256],
                "item_id": outcome.item_id[:1024],
                "workload": outcome.workload[:64],
                "code": code[:100],
                "message": outcome.error_message[:MAX_MESSAGE],
                "portal_link": outcome.portal_link[:2048],
                "channel": channel,
                "message_ts": None,
                "status": "open",
                "episode": 1,
                "first_failure": at,
                "last_failure": at,
                "count": 1,
                "noted": 0,
                "last_job": job_key(outcome),
                "resolved_at": None,
                "resolved_by": None,
            }
            made = insert_ignore(conn, incidents, fresh, t.id)
            if made is not None:
                self._link(conn, jid, made)
                if channel:
                    outbox.enqueue(conn, "root", channel, now=now, incident_id=made, episode=1)
                return Recorded(int(made), "new")
            reopen = (
                update(incidents)
                .where(t.key == ikey, t.status == "resolved", t.resolved_at < at)
                .values(
                    status="open",
                    episode=t.episode + 1,
                    count=1,
                    noted=0,
                    first_failure=at,
                    last_failure=at,
                    last_job=jid,
                    message=fresh["message"],
                    portal_link=fresh["portal_link"],
                    channel=channel,
                    message_ts=None,
                    resolved_at=None,
                    resolved_by=None,
                )
                .returning(t.id, t.episode)
            )
            again = conn.execute(reopen).first()
            if again is not None:
                self._link(conn, jid, again.id)
                if channel:
                    outbox.enqueue(
                        conn, "root", channel, now=now, incident_id=again.id, episode=again.episode
                    )
                return Recorded(int(again.id), "reopened")
            later = at > t.last_failure
            fold = (
                update(incidents)
                .where(t.key == ikey)
                .values(
                    count=t.count + 1,
                    last_failure=case((later, at), else_=t.last_failure),
                    last_job=case((later, jid), else_=t.last_job),
                    first_failure=case((at < t.first_failure, at), else_=t.first_failure),
                )
                .returning(t.id, t.status, t.channel)
            )
            row = conn.execute(fold).one()
            self._link(conn, jid, row.id)
            if row.status != "open":
                return Recorded(int(row.id), "late")
            if row.channel:
                outbox.enqueue(conn, "repeat", row.channel, now=now, incident_id=row.id)
            return Recorded(int(row.id), "repeat")

    def record_success(self, outcome: JobOutcome, *, now: datetime) -> list[int]:
        """Resolve the item's open incidents that failed before this success; their ids."""
        at, key = utc(outcome.at), item_key(outcome)
        t = incidents.c
        with self.engine.begin() as conn:
            job = {
                "job_id": job_key(outcome),
                "incident_id": None,
                "item_key": key,
                "code": "",
                "source": outcome.source,
                "succeeded": True,
                "at": at,
            }
            if insert_ignore(conn, incident_jobs, job, incident_jobs.c.job_id) is None:
                return []
            stmt = (
                update(incidents)
                .where(t.item_key == key, t.status == "open", t.last_failure <= at)
                .values(status="resolved", resolved_at=at, resolved_by=job["job_id"])
                .returning(t.id, t.channel, t.episode)
            )
            done = conn.execute(stmt).all()
            for row in done:
                if row.channel:
                    outbox.enqueue(
                        conn,
                        "resolve",
                        row.channel,
                        now=now,
                        incident_id=row.id,
                        episode=row.episode,
                    )
        return sorted(int(r.id) for r in done)

    def _link(self, conn: Connection, job_id: str, incident_id: int) -> None:
        conn.execute(
            update(incident_jobs)
            .where(incident_jobs.c.job_id == job_id)
            .values(incident_id=incident_id)
        )

    # Reading
    def get(self, incident_id: int) -> Incident | None:
        """One incident, or None."""
        found = self.select(incidents.c.id == incident_id)
        return found[0] if found else None

    def select(self, *where: Any, order: Any = None, limit: int | None = None) -> list[Incident]:
        """Incidents matching ``where`` (SQLAlchemy clauses)."""
        query = select(incidents).where(*where).order_by(incidents.c.id if order is None else order)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [to_incident(r._mapping) for r in conn.execute(query)]

    def channels(self, *where: Any) -> set[str]:
        """The distinct channels of the incidents matching ``where`` (routes bound how many)."""
        query = select(incidents.c.channel).where(incidents.c.channel.is_not(None), *where)
        with self.engine.connect() as conn:
            return {str(r[0]) for r in conn.execute(query.distinct())}

    def open_item_keys(self) -> list[str]:
        """The item keys of open incidents (the poller asks Resource Graph for their successes)."""
        query = select(incidents.c.item_key).where(incidents.c.status == "open").distinct()
        with self.engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(query)]

    # Retention (the hourly prune of ``serve``)
    def prune(self, *, older_than: timedelta, now: datetime) -> int:
        """Forget what is older than ``older_than`` at ``now``: resolved incidents (open ones
        stay, and so does one with a message still to send), the jobs seen (kept at least
        ``JOB_MEMORY``), sent or given-up messages no live incident's dedupe needs, and digest
        days. Returns how many rows went."""
        before = now - older_than
        t, j, o = incidents.c, incident_jobs.c, slack_outbox.c
        unsent = exists().where(o.incident_id == t.id, o.status.in_(("new", "sending")))
        steps = [
            delete(incidents).where(t.status == "resolved", t.resolved_at < before, ~unsent),
            delete(incident_jobs).where(j.at < now - max(older_than, JOB_MEMORY)),
            delete(slack_outbox).where(
                o.status.in_(("sent", "failed")),
                o.created_at < before,
                # a root or resolution row keeps its episode's key while its incident lives
                o.kind.in_(("repeat", "digest")) | ~exists().where(t.id == o.incident_id),
            ),
            delete(digest_runs).where(digest_runs.c.day < f"{before:%Y-%m-%d}"),
        ]
        gone = 0
        for stmt in steps:  # one table at a time: short write transactions
            with self.engine.begin() as conn:
                gone += int(conn.execute(stmt).rowcount)
        return gone

    # Slack bookkeeping (the outbox worker)
    def set_posted(self, incident_id: int, *, ts: str, noted: int) -> None:
        """Record the root message's ts and how many failures it told."""
        self._set(incident_id, message_ts=ts, noted=noted)

    def set_noted(self, incident_id: int, noted: int) -> None:
        """Record how many failures Slack has been told about."""
        self._set(incident_id, noted=noted)

    def _set(self, incident_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(incidents).where(incidents.c.id == incident_id).values(**values))


def to_incident(m: Any) -> Incident:
    """A row mapping as an ``Incident`` (times made UTC-aware)."""
    resolved = m["resolved_at"]
    return Incident(
        id=int(m["id"]),
        key=m["key"],
        item_key=m["item_key"],
        vault_id=m["vault_id"],
        item=m["item"],
        item_id=m["item_id"],
        workload=m["workload"],
        code=m["code"],
        message=m["message"],
        portal_link=m["portal_link"],
        channel=m["channel"],
        message_ts=m["message_ts"],
        status=m["status"],
        episode=int(m["episode"]),
        first_failure=utc(m["first_failure"]),
        last_failure=utc(m["last_failure"]),
        count=int(m["count"]),
        noted=int(m["noted"]),
        last_job=m["last_job"],
        resolved_at=None if resolved is None else utc(resolved),
        resolved_by=m["resolved_by"],
    )


def by_ids(state: IncidentState, ids: Sequence[int]) -> list[Incident]:
    """The incidents with these ids, in id order."""
    return state.select(incidents.c.id.in_(list(ids))) if ids else []
