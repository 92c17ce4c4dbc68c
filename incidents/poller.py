"""The pull path: failed backup jobs of the whole estate, found through Azure Resource Graph.

Every ``every`` (BACKUP_FIX_POLL_MINUTES) the poller asks for the jobs that failed since its last
successful poll, less ``overlap`` (a job may reach Resource Graph a little late), and hands each
to ``sink`` as a :class:`JobOutcome`. The same job comes again in the overlap and may also come by
alert: the sink dedupes on ``job_id``. With ``open_items`` (the item keys of open incidents) it
also hands on their succeeded backups, so the sink can mark them resolved. A poll never starts
sooner than ``every`` after the previous one began, whatever failed; time is injectable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

from actions.graph import Scopes, failed_jobs_query, succeeded_backups_queries
from actions.inventory import RowSource
from incidents.graph_rows import job_outcome
from incidents.model import JobOutcome

log = logging.getLogger(__name__)

Sink = Callable[[JobOutcome], None]
RETENTION: Final = timedelta(days=14)  # how long Resource Graph keeps backup jobs
FIRST_LOOKBACK: Final = timedelta(hours=24)  # the first poll after a start looks this far back
OVERLAP: Final = timedelta(minutes=10)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Poller:
    """Polls Resource Graph for failed (and resolving) backup jobs and feeds ``sink``."""

    def __init__(
        self,
        graph: RowSource,
        scopes: Scopes,
        sink: Sink,
        *,
        every: timedelta,
        overlap: timedelta = OVERLAP,
        first_lookback: timedelta = FIRST_LOOKBACK,
        open_items: Callable[[], Iterable[str]] | None = None,
        now: Callable[[], datetime] = _utc_now,
        wait: Callable[[float], bool] | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        if every <= timedelta(0):
            raise ValueError("every must be positive")
        self._graph, self._scopes, self._sink = graph, scopes, sink
        self.every, self._overlap, self._first = every, overlap, first_lookback
        self._open_items, self._now, self._on_stop = open_items, now, on_stop
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait  # True once stopped
        self._thread: threading.Thread | None = None
        self.last_success: datetime | None = None  # when the last complete poll began
        self.polls = 0
        self.failures = 0

    def since(self, now: datetime) -> datetime:
        """Where the next poll's window starts: the last success less the overlap, within the
        jobs Resource Graph still keeps."""
        start = (self.last_success or now - self._first) - self._overlap
        return max(start, now - RETENTION)

    def poll_once(self) -> int:
        """One poll: every failed job (and succeeded backup of an open item) in the window goes
        to the sink; returns how many. Azure errors raise; a sink error is logged, the rest go
        on, and the window is kept for the next poll."""
        began = self._now()
        since = self.since(began)
        self.polls += 1
        handed, sink_failed = 0, False
        queries = [failed_jobs_query(since)]
        if self._open_items is not None:
            queries += succeeded_backups_queries(since, list(self._open_items()))
        for query in queries:
            for row in self._graph.rows(query, self._scopes):
                outcome = job_outcome(row)
                if outcome is None:
                    continue
                try:
                    self._sink(outcome)
                except Exception:
                    sink_failed = True
                    log.exception("incident sink failed", extra={"job_id": outcome.job_id})
                    continue
                handed += 1
        if not sink_failed:
            self.last_success = began
        return handed

    def run(self) -> None:
        """Poll until ``stop()``; an error is logged and the next poll comes on schedule."""
        while not self._stop.is_set():
            began = self._now()
            try:
                count = self.poll_once()
            except Exception:
                self.failures += 1
                log.warning("Resource Graph poll failed", exc_info=True)
            else:
                log.info("Resource Graph poll", extra={"count": count})
            left = (began + self.every - self._now()).total_seconds()
            if self._wait(max(left, 0.0)):
                break

    def start(self) -> Poller:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="graph-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the poll in progress (if any) and release the client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._on_stop is not None:
            self._on_stop()


def build_poller(
    graph: RowSource,
    scopes: Scopes,
    sink: Sink,
    *,
    minutes: int,
    open_items: Callable[[], Iterable[str]] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> Poller | None:
    """A poller every ``minutes``; None when polling is off (no scopes, or 0 minutes)."""
    if not scopes or minutes <= 0:
        return None
    return Poller(
        graph,
        scopes,
        sink,
        every=timedelta(minutes=minutes),
        open_items=open_items,
        on_stop=on_stop,
    )
