"""Work that must not run on Slack's listener threads: diagnostics, remediations, job follow-ups.

Remediations and job follow-ups go to ``actions.executor.Executor``; diagnostics get a pool of
their own so a slow Azure read never delays an approved change. Every pool holds a bounded queue:
when it is full, reads are refused (``Busy``: the caller says "busy, try again" in the thread), an
approved remediation waits for the periodic reconcile, and a job is not followed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait

from actions.approvals import ApprovalRequest
from actions.executor import BoundedExecutor, Busy, Executor
from actions.ports import BackupApi
from actions.resources import VaultRef

log = logging.getLogger(__name__)


class Background:
    """Background runners with bounded job following; ``idle()`` lets tests wait for them."""

    def __init__(
        self,
        *,
        workers: int = 4,
        queue: int = 32,
        follow_first_delay: float = 15.0,
        follow_max_delay: float = 300.0,
        follow_max_wait: float = 4 * 3600.0,
    ) -> None:
        self.executor = Executor(workers=workers, queue=queue)
        self._reads = BoundedExecutor(workers, queue=queue, thread_name_prefix="backup-fix-read")
        self._follow = (follow_first_delay, follow_max_delay, follow_max_wait)
        self._futures: list[Future[None]] = []
        self._lock = threading.Lock()

    @classmethod
    def for_polling(cls, polling_interval: float) -> Background:
        """Follow jobs about as often as the SDK polls (tests set the interval to 0)."""
        if polling_interval >= 15:
            return cls()
        first = max(polling_interval, 0.2)
        return cls(follow_first_delay=first, follow_max_delay=max(2.0, first * 10))

    def submit(self, request: ApprovalRequest, run: Callable[[], None]) -> None:
        """Run an approved request's execution in the background; when every runner is busy and
        the queue is full it stays approved, and the periodic reconcile starts it later."""
        try:
            self._track(self.executor.submit(request, run))
        except Busy:
            log.warning("runners busy: the reconcile will start it", extra={"request": request.id})

    def run(self, what: str, work: Callable[[], None]) -> None:
        """Run read-only work (a diagnostic) in the background; failures are logged. Raises Busy
        when the readers and their queue are full."""

        def guarded() -> None:
            try:
                work()
            except Exception:
                log.exception("background work failed", extra={"what": what})

        self._track(self._reads.submit(guarded))

    def try_run(self, what: str, work: Callable[[], None]) -> bool:
        """``run``, False instead of Busy."""
        try:
            self.run(what, work)
        except Busy:
            log.warning("background readers busy", extra={"what": what})
            return False
        return True

    def follow_job(
        self, api: BackupApi, vault: VaultRef, job: str, on_done: Callable[[str], None]
    ) -> None:
        """Poll a started job to its end (bounded) and call ``on_done`` with its status."""
        first, biggest, longest = self._follow
        try:
            future = self.executor.follow_job(
                api, vault, job, on_done, max_wait=longest, first_delay=first, max_delay=biggest
            )
        except Busy:
            log.warning("too many jobs followed: not following this one", extra={"job": job})
            return
        self._track(future)

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far has finished; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:  # work may start more work (an execution starts a follow-up)
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait(pending, timeout=left)

    def shutdown(self) -> None:
        """Stop following jobs; let running work finish."""
        self.executor.shutdown()
        self._reads.shutdown(wait=True)

    def _track(self, future: Future[None]) -> None:
        with self._lock:
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(future)
