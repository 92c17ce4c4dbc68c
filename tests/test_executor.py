"""The background executor: runs off the caller's thread, once per request while running, follows
jobs to their end with bounded backoff, and shuts down cleanly."""

from __future__ import annotations

import contextvars
import threading
from datetime import UTC, datetime

import pytest

from actions.approvals import ApprovalRequest, new_request
from actions.errors import AzureNotFound, AzureUnavailable
from actions.executor import Executor
from actions.resources import VaultRef
from tests.fakes.backup_api import VAULT, FakeBackupApi

WAIT = 10.0  # generous: only reached when something is broken


def request() -> ApprovalRequest:
    return new_request(
        action="trigger_backup",
        params={},
        plan="p",
        requester="U1",
        channel="C1",
        thread_ts="1.0",
        now=datetime.now(UTC),
        key=b"k" * 32,
    )


def test_submit_runs_on_a_worker_thread() -> None:
    seen: list[str] = []
    with Executor() as ex:
        ex.submit(request(), lambda: seen.append(threading.current_thread().name)).result(WAIT)
    assert seen
    assert seen[0].startswith("backup-fix-run")


def test_a_second_submit_while_running_is_the_same_run() -> None:
    release = threading.Event()
    runs: list[int] = []

    def slow() -> None:
        runs.append(1)
        release.wait(WAIT)

    req = request()
    with Executor() as ex:
        first = ex.submit(req, slow)
        assert ex.submit(req, slow) is first
        release.set()
        first.result(WAIT)
        ex.submit(req, lambda: runs.append(2)).result(WAIT)
    assert runs == [1, 2]


def test_a_failing_run_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    with Executor() as ex:
        assert ex.submit(request(), boom).result(WAIT) is None
    assert "background work failed" in caplog.text


def follow(api: FakeBackupApi, ex: Executor, **kw: float) -> list[str]:
    done: list[str] = []
    ex.follow_job(api, VAULT, "job-1", done.append, **kw).result(WAIT)
    return done


def test_follow_job_until_final_with_transient_errors() -> None:
    api = FakeBackupApi()
    api.job_statuses["job-1"] = ["InProgress", "InProgress", "Completed"]
    api.fail("get_job_status", AzureUnavailable("503", status=503))
    with Executor() as ex:
        done = follow(api, ex, first_delay=0.001, max_delay=0.004, max_wait=WAIT)
    assert done == ["Completed"]
    assert api.names().count("get_job_status") == 4


def test_follow_job_gives_up_after_max_wait_with_last_status() -> None:
    api = FakeBackupApi()
    api.job_statuses["job-1"] = ["InProgress"]
    with Executor() as ex:
        done = follow(api, ex, first_delay=0.001, max_delay=0.002, max_wait=0.05)
    assert done == ["InProgress"]


def test_follow_job_stops_on_a_job_it_cannot_read() -> None:
    api = FakeBackupApi()
    api.fail("get_job_status", AzureNotFound("gone", status=404))
    with Executor() as ex:
        assert follow(api, ex, first_delay=0.001, max_wait=WAIT) == ["Unknown"]
    assert api.names() == ["get_job_status"]


def test_shutdown_wakes_followers_without_calling_back() -> None:
    api = FakeBackupApi()
    done: list[str] = []
    ex = Executor()
    future = ex.follow_job(api, VAULT, "job-1", done.append, first_delay=3600.0)
    ex.shutdown()
    assert future.done()
    assert done == []
    assert api.calls == []
    with pytest.raises(RuntimeError):
        ex.submit(request(), lambda: None)


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


class ContextRecordingApi(FakeBackupApi):
    """Notes the request id visible while the follower polls."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def get_job_status(self, vault: VaultRef, job_name: str) -> str:
        self.seen.append(REQUEST_ID.get())
        return super().get_job_status(vault, job_name)


def test_work_runs_in_the_submitters_context() -> None:
    api = ContextRecordingApi()
    api.job_statuses["job-1"] = ["InProgress", "Completed"]
    seen_in_run: list[str] = []
    REQUEST_ID.set("Ev123")
    with Executor() as ex:
        ex.submit(request(), lambda: seen_in_run.append(REQUEST_ID.get())).result(WAIT)
        done = follow(api, ex, first_delay=0.001, max_delay=0.002, max_wait=WAIT)
    assert seen_in_run == ["Ev123"]
    assert done == ["Completed"]
    assert api.seen
    assert set(api.seen) == {"Ev123"}
