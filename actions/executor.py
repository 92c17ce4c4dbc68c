"""Runs approved remediations off Slack's listener threads, and follows started backup jobs to
their end in the background (bounded polling with exponential backoff).

Two small pools: remediations never wait behind long job follow-ups. ``shutdown`` wakes every
follower at once instead of letting it sleep out its backoff.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from actions.approvals import ApprovalRequest
from actions.errors import AzureAuthError, AzureError, AzureForbidden, AzureNotFound
from actions.ports import BackupApi
from actions.resources import VaultRef

logger = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

FINAL_STATUSES = frozenset({"Completed", "CompletedWithWarnings", "Failed", "Cancelled"})
# The job can't be read any more: polling on would not change that.
_PERMANENT = (AzureAuthError, AzureForbidden, AzureNotFound)


class Busy(RuntimeError):
    """A pool's workers are all busy and its queue is full: the caller says so, not queues."""


class BoundedExecutor(ThreadPoolExecutor):
    """A thread pool that holds at most ``workers + queue`` tasks; ``submit`` raises Busy past
    that, so a flood of work is refused at once instead of waiting in memory without end."""

    def __init__(self, workers: int, *, queue: int = 64, thread_name_prefix: str = "") -> None:
        super().__init__(workers, thread_name_prefix=thread_name_prefix)
        self._slots = threading.BoundedSemaphore(workers + queue)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Like ThreadPoolExecutor.submit; Busy when the pool and its queue are full."""
        if not self._slots.acquire(blocking=False):
            raise Busy(f"{self._thread_name_prefix or 'pool'}: all workers busy, queue full")
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _f: self._slots.release())
        return future

    def full(self) -> bool:
        """True when a ``submit`` now would raise Busy."""
        if not self._slots.acquire(blocking=False):
            return True
        self._slots.release()
        return False


class Executor:
    """A bounded background runner; use as a context manager or call ``shutdown``."""

    def __init__(
        self,
        *,
        workers: int = 4,
        followers: int = 4,
        queue: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._runs = BoundedExecutor(workers, queue=queue, thread_name_prefix="backup-fix-run")
        self._follows = BoundedExecutor(
            followers, queue=queue, thread_name_prefix="backup-fix-follow"
        )
        self._stop = threading.Event()
        self._clock = clock
        self._lock = threading.Lock()
        self._inflight: dict[str, Future[None]] = {}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()

    def submit(self, request: ApprovalRequest, run: Callable[[], None]) -> Future[None]:
        """Run ``run`` for the request in the background; a second submit while it runs is the
        same run (the store's guarded transition is what makes execution exactly-once)."""
        with self._lock:
            running = self._inflight.get(request.id)
            if running is not None and not running.done():
                return running
            # The caller's context (its request id in the logs) goes along to the worker.
            context = contextvars.copy_context()
            what = f"request {request.id} ({request.action})"
            future = self._runs.submit(context.run, _guarded, run, what)
            self._inflight[request.id] = future
        future.add_done_callback(lambda _f: self._forget(request.id, future))
        return future

    def follow_job(
        self,
        api: BackupApi,
        vault: VaultRef,
        job_name: str,
        on_done: Callable[[str], None],
        *,
        max_wait: float = 4 * 3600.0,
        first_delay: float = 15.0,
        max_delay: float = 300.0,
    ) -> Future[None]:
        """Poll the job until it ends or ``max_wait`` seconds pass, then call ``on_done`` with its
        last status (not in ``FINAL_STATUSES`` when it timed out or became unreadable)."""

        def follow() -> None:
            status = self._poll(api, vault, job_name, max_wait, first_delay, max_delay)
            if status is not None:
                on_done(status)

        context = contextvars.copy_context()
        return self._follows.submit(context.run, _guarded, follow, f"follow job {job_name}")

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop following jobs (without calling back) and let running remediations finish."""
        self._stop.set()
        self._follows.shutdown(wait=wait, cancel_futures=True)
        self._runs.shutdown(wait=wait)

    def _poll(
        self,
        api: BackupApi,
        vault: VaultRef,
        job_name: str,
        max_wait: float,
        first_delay: float,
        max_delay: float,
    ) -> str | None:
        deadline = self._clock() + max_wait
        delay, status = first_delay, "Unknown"
        while True:
            if self._stop.wait(max(0.0, min(delay, deadline - self._clock()))):
                return None  # shutting down: nobody is left to tell
            try:
                status = api.get_job_status(vault, job_name)
            except _PERMANENT:
                logger.warning("job %s can no longer be read", job_name, exc_info=True)
                return status
            except AzureError:
                logger.warning("reading job %s failed; will retry", job_name, exc_info=True)
            if status in FINAL_STATUSES or self._clock() >= deadline:
                return status
            delay = min(delay * 2, max_delay)

    def _forget(self, request_id: str, future: Future[None]) -> None:
        with self._lock:
            if self._inflight.get(request_id) is future:
                del self._inflight[request_id]


def _guarded(run: Callable[[], None], what: str) -> None:
    """Background work has nobody to raise to: log it with the stack."""
    try:
        run()
    except Exception:
        logger.exception("background work failed: %s", what)
