"""Faults, each with no lost or doubled action: a replica killed mid-execution, PostgreSQL
restarted, Slack answering 429 for a minute, Resource Manager answering 5xx or not at all, and a
malformed knowledge-base file at start.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions.approvals import Status
from knowledge.loader import DATA_DIR
from tests.acceptance.actions_helpers import APPROVE, Driver, poll, ref_of, settle
from tests.acceptance.conftest import KNOWN, SECRET, Slack, bot_env, sqlite_url, wait_until
from tests.acceptance.conftest_actions import (
    APPROVER1,
    APPROVER2,
    CHANNEL,
    PG_ENV,
    VM,
    World,
    _pg_schema,
    ask,
    open_thread,
    request_of,
    wait_status,
    world_fixture,  # noqa: F401 (fixture)
)
from tests.fakes import pg, signing
from tests.fakes.botproc import BotProcess, run_to_exit
from tests.fakes.slack_api import RESPONSE_URL, FakeSlack, _Failure
from tests.postgres_target import postgres_url

BACKUP_PATH = f";{VM}/backup"
# A killed runner's lease runs out after this (BACKUP_FIX_LEASE_SECONDS, 10 by default); the
# replicas renew theirs every fifth of it and look for dead ones every 0.3 of it.
LEASE_SECONDS = 3.0
RECONCILE_EVERY = LEASE_SECONDS * 0.3


@pytest.fixture(name="shared_store")
def shared_store_fixture(world: World) -> Iterator[str]:
    """The store two replicas share: a fresh PostgreSQL schema when ``PG_ENV`` is set, else one
    SQLite file (both replicas on one machine)."""
    if os.environ.get(PG_ENV):
        yield from _pg_schema(postgres_url())
    else:
        yield world.sqlite_url()


def backup_jobs(world: World) -> list[str]:
    """Names of the on-demand backup jobs the fake ARM holds for the VM."""
    with world.arm.lock:
        return [
            r["name"]
            for r in world.arm.resources.values()
            if "/backupjobs/" in r["id"].lower()
            and r["properties"].get("isUserTriggered")
            and str(r["properties"].get("entityFriendlyName", "")).casefold() == VM.casefold()
        ]


# -- a replica killed mid-execution ---------------------------------------------------------------


@pytest.mark.parametrize("azure_did_it", [True, False], ids=["change-made", "change-not-made"])
def test_a_replica_killed_mid_execution_is_settled_by_the_other(
    world: World, shared_store: str, azure_did_it: bool
) -> None:
    ids = world.populate()
    lease = {"BACKUP_FIX_LEASE_SECONDS": str(LEASE_SECONDS)}
    runner, other = world.start_bot(shared_store, **lease), world.start_bot(shared_store, **lease)
    root = open_thread(runner, "BackUpOperationFailed", vm_id=ids.vm)
    card, _ = ask(runner, root, "trigger_backup")
    req = request_of(world, shared_store, card)
    # Resource Manager holds the call; then it either starts the job or fails (no job).
    world.arm.fail("POST", BACKUP_PATH, None if azure_did_it else 500, delay=3.0)
    approve = card.element(APPROVE)
    assert approve is not None
    assert runner.click(card, approve, user=APPROVER1).status == 200
    assert poll(lambda: world.arm.count("POST", BACKUP_PATH) >= 1, 20), runner.log_tail()
    assert runner.bot.proc is not None
    runner.bot.proc.kill()  # SIGKILL: no shutdown, no last words
    runner.bot.proc.wait(10)
    try:
        done = wait_status(world, shared_store, req.id, Status.SUCCEEDED, Status.FAILED, timeout=30)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{other.log_tail()}") from None
    # further reconcile rounds (and the other replica's) must change nothing
    settle(3 * RECONCILE_EVERY)
    assert world.arm.count("POST", BACKUP_PATH) == 1, "the Azure call was not repeated"
    records = [r for r in world.ledger(shared_store).records() if r.request_id == req.id]
    settled = [r.event for r in records if r.event in ("succeeded", "interrupted", "failed")]
    assert len(settled) == 1, [r.event for r in records]
    card_now = next(m for m in other.thread(CHANNEL, root) if m.ts == card.ts)
    assert card_now.element(APPROVE) is None
    # The runner died before the call returned, so nothing recorded what Azure did: the request
    # is settled as interrupted either way, never guessed from the VM's jobs (a scheduled backup
    # would look the same), and the thread is told what to check.
    assert len(backup_jobs(world)) == (1 if azure_did_it else 0)
    assert done.status == Status.FAILED, done.outcome
    assert done.outcome.get("error") == "interrupted", done.outcome
    said = other.wait_thread(
        CHANNEL, root, lambda m: "interrupted" in m.all_text(), what="interrupted notice"
    ).all_text()
    assert ref_of(said) is not None, said
    assert "backup jobs" in said, said  # tells what to check
    assert other.bot.alive()


# -- PostgreSQL restarted -------------------------------------------------------------------------


@pytest.fixture(name="private_pg")
def private_pg_fixture() -> Iterator[pg.PrivatePostgres]:
    """A throwaway PostgreSQL cluster of this test alone."""
    reason = pg.missing()
    if reason is not None:
        pytest.skip(f"private PostgreSQL: {reason}")
    with pg.PrivatePostgres() as cluster:
        yield cluster


def test_postgres_restarted_while_the_bot_runs(
    world: World, private_pg: pg.PrivatePostgres
) -> None:
    world.populate()
    bot = world.start_bot(private_pg.url, BACKUP_FIX_VAULTS="")
    before = signing.event_envelope(signing.message(KNOWN, channel="CBEFORE"))
    assert bot.client.envelope(before).status == 200
    answered(bot, "CBEFORE", before)
    private_pg.stop()
    time.sleep(1.2)  # the bot's last good look at the store is now stale
    during = [signing.event_envelope(signing.message(KNOWN, channel=f"CDOWN{n}")) for n in range(3)]
    statuses = [bot.client.envelope(e).status for e in during]
    assert statuses == [503] * 3, "Slack is asked to retry while the store is away"
    private_pg.start()
    for envelope in during:  # Slack's retries, after the outage
        assert bot.client.envelope(envelope, retry=1).status == 200
        assert bot.client.envelope(envelope, retry=2).status == 200
    after = signing.event_envelope(signing.message(KNOWN, channel="CAFTER"))
    assert bot.client.envelope(after).status == 200
    for envelope in (before, *during, after):
        answered(bot, str(envelope["event"]["channel"]), envelope)
    settle(1.5)
    for envelope in (before, *during, after):
        assert count(bot, str(envelope["event"]["channel"]), envelope) == 1
    assert bot.bot.alive()


def answered(bot: Driver, channel: str, envelope: dict[str, object]) -> None:
    """Wait for the answer to the envelope's paste."""
    root = str(envelope["event"]["ts"])  # type: ignore[index]
    bot.wait_thread(channel, root, lambda m: m.text.startswith(KNOWN), what="the answer")


def count(bot: Driver, channel: str, envelope: dict[str, object]) -> int:
    """How many answers the envelope's paste got."""
    root = str(envelope["event"]["ts"])  # type: ignore[index]
    return len([m for m in bot.thread(channel, root) if m.text.startswith(KNOWN)])


# -- Slack answering 429 for a minute -------------------------------------------------------------


class ThrottledSlack(FakeSlack):
    """A fake Slack whose Web API answers 429 until a moment, with Retry-After saying when."""

    def __init__(self) -> None:
        super().__init__()
        self.until = 0.0

    def __enter__(self) -> ThrottledSlack:
        self.start()
        return self

    def throttle(self, seconds: float) -> None:
        """Answer every Web API call 429 for ``seconds`` from now."""
        self.until = time.monotonic() + seconds

    def _failure(self, method: str) -> _Failure | None:
        left = self.until - time.monotonic()
        if method == RESPONSE_URL or left <= 0:
            return super()._failure(method)
        return _Failure(1, 429, math.ceil(left))


# Long enough for pastes to arrive while Slack refuses, short enough not to idle the suite: the
# budget that lets a full minute pass (bot/slack_retry.py, 180 s) is tested with its own clock in
# tests/test_slack_retry.py; here the bot honours Retry-After end to end.
THROTTLED_FOR = 5.0


def refused_posts(fake: ThrottledSlack) -> list[Any]:
    """The chat.postMessage calls the fake refused."""
    return [c for c in fake.calls("chat.postMessage", include_failed=True) if c.status]


def test_slack_answering_429_for_a_while_loses_no_reply(tmp_path: Path) -> None:
    with ThrottledSlack() as fake:
        bot = BotProcess(bot_env(fake, sqlite_url(tmp_path))).start()
        try:
            slack = Slack(fake, bot)
            slack.barrier()
            fake.throttle(THROTTLED_FOR)
            ended = fake.until
            roots = [slack.paste(f"{KNOWN} #{n}", channel="CTHROTTLED")["ts"] for n in range(3)]
            assert wait_until(lambda: len(refused_posts(fake)) >= 3, timeout=THROTTLED_FOR)
            # more arrive while Slack still refuses
            roots += [slack.paste(f"{KNOWN} #{n}", channel="CTHROTTLED")["ts"] for n in (3, 4)]
            assert time.monotonic() < ended, "the later pastes arrived inside the window"
            for root in roots:
                slack.wait_answer("CTHROTTLED", root, timeout=THROTTLED_FOR + 30)
            settle(2)
            assert any(c.status == 429 for c in refused_posts(fake)), "Slack did refuse"
            for root in roots:
                got = slack.answers("CTHROTTLED", root)
                assert len(got) == 1, f"{len(got)} answers in {root}"
                assert got[0].at >= ended, "answered only after the window"
            assert bot.alive()
        finally:
            bot.stop()


# -- Resource Manager answering 5xx or timing out -------------------------------------------------


@pytest.mark.parametrize("fault", ["503", "timeout"])
def test_resource_manager_failing_gives_a_clear_failure_once(
    world: World, shared_store: str, fault: str
) -> None:
    ids = world.populate()
    one, two = world.start_bot(shared_store), world.start_bot(shared_store)
    root = open_thread(one, "BackUpOperationFailed", vm_id=ids.vm)
    card, _ = ask(one, root, "trigger_backup")
    req = request_of(world, shared_store, card)
    if fault == "503":
        world.arm.fail("POST", BACKUP_PATH, 503, times=None)
    else:  # silent for longer than the bot's 2 s read timeout
        world.arm.fail("POST", BACKUP_PATH, 503, times=None, delay=4.0)
    approve = card.element(APPROVE)
    assert approve is not None
    before = {m.ts for m in one.thread(CHANNEL, root)}
    assert one.click(card, approve, user=APPROVER1).status == 200
    assert two.click(card, approve, user=APPROVER2).status == 200
    done = wait_status(world, shared_store, req.id, Status.FAILED, Status.SUCCEEDED, timeout=60)
    assert done.status == Status.FAILED
    failure = one.wait_thread(
        CHANNEL,
        root,
        lambda m: m.ts not in before and ref_of(m.all_text()) is not None,
        what="a failure sentence with a reference id",
    )
    ref = ref_of(failure.all_text())
    assert ref is not None
    assert ref in one.bot.stderr + two.bot.stderr, "the log names the same reference id"
    settle(2)
    records = [r for r in world.ledger(shared_store).records() if r.request_id == req.id]
    assert [r.event for r in records].count("executing") == 1
    assert [r.event for r in records].count("failed") == 1
    assert backup_jobs(world) == [], "nothing was started"
    failures = [m for m in one.thread(CHANNEL, root) if ref_of(m.all_text()) is not None]
    assert len(failures) == 1, [m.all_text()[:200] for m in failures]


# -- a malformed knowledge base at start ----------------------------------------------------------


def broken_kb(tmp_path: Path, entry: str, old: str, new: str) -> Path:
    """A copy of the shipped knowledge base with one line of one entry changed."""
    folder = tmp_path / "kb"
    shutil.copytree(DATA_DIR, folder)
    path = folder / "entries" / "vm" / f"{entry}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("numeric_codes: [380008]", "numeric_codes: [three-eight-oh]", "numeric_codes"),
        ("numeric_codes: [380008]", "numeric_codes: [380008", None),  # not YAML any more
    ],
    ids=["bad-field", "bad-yaml"],
)
def test_a_malformed_knowledge_base_stops_serve_with_one_line(
    tmp_path: Path, old: str, new: str, field: str | None
) -> None:
    kb = broken_kb(tmp_path, "AzureVmOffline", old, new)
    with FakeSlack() as fake:
        env = bot_env(fake, sqlite_url(tmp_path), BACKUP_FIX_KB_DIR=str(kb))
        done = run_to_exit(env, ("serve", "--http", "--host", "127.0.0.1", "--port", "0"))
    assert done.returncode != 0
    assert "listening on" not in done.stdout, "a half-loaded knowledge base was never served"
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "AzureVmOffline.yaml" in lines[0]
    if field is not None:
        assert re.search(r"entry '?AzureVmOffline'?", lines[0]), lines[0]
        assert field in lines[0], lines[0]
    assert fake.calls("chat.postMessage") == []


def test_a_missing_knowledge_base_folder_is_named(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "BACKUP_FIX_DATABASE_URL": sqlite_url(tmp_path),
        "BACKUP_FIX_KB_DIR": str(tmp_path / "nowhere"),
    }
    done = run_to_exit(env, ("serve", "--http", "--port", "0"))
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "BACKUP_FIX_KB_DIR" in lines[0]
