"""A paste cannot make the bot read Azure without bound, nor on a listener thread, and a full
pool says "busy" instead of queueing."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from actions.executor import BoundedExecutor, Busy
from actions.resolve import MAX_JOB_READS, Resolver, skipped_jobs
from actions.resources import Job
from bot.background import Background
from tests.fakes.backup_api import VAULT, FakeBackupApi, protected_vm


def paste_with_jobs(n: int) -> tuple[str, list[str]]:
    jobs = [str(uuid.UUID(int=k + 1)) for k in range(n)]
    lines = [f"{VAULT.id}/backupJobs/{j} Failed UserErrorGuestAgentStatusUnavailable" for j in jobs]
    return "\n".join(lines), jobs


def test_hundreds_of_job_ids_cost_a_few_reads() -> None:
    api = FakeBackupApi()
    api.add_item(protected_vm())
    text, jobs = paste_with_jobs(300)
    Resolver(api, [VAULT]).resolve(text)
    assert api.names().count("get_job") == MAX_JOB_READS
    assert skipped_jobs(text) == jobs[MAX_JOB_READS:]


def test_the_budget_holds_across_vaults_and_bare_guids() -> None:
    api = FakeBackupApi()
    other = type(VAULT)(VAULT.subscription_id, VAULT.resource_group, "vault-two")
    text = " ".join(str(uuid.UUID(int=k + 1)) for k in range(50))  # bare GUIDs, no job ids
    Resolver(api, [VAULT, other]).resolve(text)
    assert api.names().count("get_job") <= MAX_JOB_READS


def test_a_job_named_first_is_still_found() -> None:
    api = FakeBackupApi()
    item = protected_vm()
    api.add_item(item)
    text, jobs = paste_with_jobs(40)
    api.add_job(Job(VAULT, jobs[0], item.friendly_name, "Backup", "Failed", None, None))
    assert Resolver(api, [VAULT]).resolve(text) == [item]


def test_a_full_pool_refuses_at_once() -> None:
    gate = threading.Event()
    pool = BoundedExecutor(1, queue=1)
    try:
        pool.submit(gate.wait)
        pool.submit(gate.wait)  # waits in the queue
        assert pool.full()
        with pytest.raises(Busy):
            pool.submit(gate.wait)
        gate.set()
        pool.shutdown(wait=True)
    finally:
        gate.set()


def test_background_reads_say_busy_rather_than_queue() -> None:
    gate = threading.Event()
    background = Background(workers=1, queue=1)
    try:
        hold: Callable[[], Any] = gate.wait
        assert background.try_run("a", hold)
        assert background.try_run("b", hold)
        assert not background.try_run("c", hold)  # the caller posts "busy, try again"
        with pytest.raises(Busy):
            background.run("d", hold)
    finally:
        gate.set()
        assert background.idle(5)
        background.shutdown()


class SlackStub:
    """users.info says zh-TW; chat.postMessage is recorded."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []

    def users_info(self, **_kw: Any) -> dict[str, Any]:
        return {"ok": True, "user": {"locale": "zh-TW"}}

    def chat_postMessage(self, **kw: Any) -> dict[str, Any]:  # noqa: N802 (Slack's name)
        self.posted.append(kw)
        return {"ok": True, "ts": "2.2"}


def test_full_listener_threads_say_busy_in_the_thread_in_the_readers_language(
    tmp_path: Any,
) -> None:
    from slack_bolt import BoltContext

    from bot.busy import busy_middleware
    from bot.listeners import Deps
    from bot.locale import LocaleCache
    from bot.metrics import Metrics
    from bot.sentences import sentence
    from bot.settings import Settings
    from knowledge import load_kb
    from store import open_store

    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    deps = Deps(Settings(), load_kb(), store, Metrics(), LocaleCache())
    gate = threading.Event()
    pool = BoundedExecutor(1, queue=0)
    client = SlackStub()
    context = BoltContext(client=client)
    passed: list[bool] = []
    guard = busy_middleware(deps, pool)
    mention = {"type": "event_callback", "event": {
        "type": "app_mention", "channel": "C1", "user": "U1", "ts": "1.1", "text": "<@UBOT> hi",
    }}  # fmt: skip
    try:
        assert guard(body=mention, context=context, next=lambda: passed.append(True)) is None
        pool.submit(gate.wait)
        response = guard(body=mention, context=context, next=lambda: passed.append(True))
        command = {"command": "/backup-fix", "user_id": "U1", "text": "x"}
        refused = guard(body=command, context=context, next=lambda: passed.append(True))
    finally:
        gate.set()
        pool.shutdown()
        store.close()
    assert passed == [True]  # only the first went on to a listener
    assert response is not None
    assert response.status == 200
    (said,) = client.posted
    assert (said["channel"], said["thread_ts"]) == ("C1", "1.1")
    assert said["text"] == sentence("busy", "zh-TW")
    assert refused is not None
    assert json.loads(refused.body) == {"response_type": "ephemeral", "text": said["text"]}
