"""The holes a security review found in the approval flow, closed, with plain fakes: a click from
a copied card, an expiry that passes while the approver lookup waits, a request edited in the
database, a stale approver group, recovery that guessed from the job list, action channels and
who may move a thread's VM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from actions.approvals import Approvers, Status
from actions.ledger import approvals
from actions.resources import Job
from bot.approvers import ApproverDirectory
from bot.execution import execute
from bot.listeners import Deps
from bot.listeners.azure_actions import may_pick
from bot.listeners.messages import handle_message
from bot.reconcile import reconcile
from bot.remediate import decide
from bot.settings import SettingsError, load_settings
from store import Store
from tests.fakes.backup_api import VAULT, VM, FakeBackupApi
from tests.test_actions_listeners import (
    APPROVER,
    CHANNEL,
    CODE,
    MEMBER,
    REQUESTER,
    STRANGER,
    THREAD,
    FakeClient,
    card_ts,
    make_deps,
    requested,
    settle,
)
from tests.test_actions_listeners import api as api
from tests.test_actions_listeners import store as store


@pytest.fixture
def deps(store: Store, api: FakeBackupApi) -> Iterator[Deps]:
    d = make_deps(store, api)
    yield d
    assert d.background is not None
    d.background.shutdown()


def stored(deps: Deps, raw: str) -> Any:
    assert deps.ledger is not None
    return deps.ledger.get(json.loads(raw)["id"])


def last_refusal(deps: Deps) -> str:
    assert deps.ledger is not None
    last = list(deps.ledger.records())[-1]
    assert last.event == "refused"
    return str(last.detail["reason"])


# -- the card's own message ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ("COTHER", None),  # the card's value pasted into a message of another channel
        (CHANNEL, "999.9"),  # ... or into another message of the card's channel
        (CHANNEL, ""),  # an ephemeral copy: no message ts
    ],
)
def test_an_approve_click_counts_only_on_the_cards_own_message(
    deps: Deps, api: FakeBackupApi, channel: str, message: str | None
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    ts = card_ts(deps, raw) if message is None else message
    decide(deps, client, raw, user=APPROVER, channel=channel, message_ts=ts, approve=True)
    settle(deps)
    assert stored(deps, raw).status == Status.PENDING
    assert "trigger_backup" not in api.names()
    assert last_refusal(deps) == "wrong_channel"
    # The refusal goes to the clicker where they clicked, and nowhere else.
    said = client.of("chat.postEphemeral")[-1]
    assert (said["user"], said["channel"]) == (APPROVER, channel)
    # The same click on the card itself goes through.
    decide(
        deps,
        client,
        raw,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=card_ts(deps, raw),
        approve=True,
    )
    settle(deps)
    assert api.names().count("trigger_backup") == 1


# -- expiry while the approver lookup waits ----------------------------------------------------


class SlowGroupClient(FakeClient):
    """usergroups.users.list takes (in the test's clock) ``minutes`` to answer, as a Slack
    rate limit can make it."""

    def __init__(self, clock: list[datetime], minutes: int) -> None:
        super().__init__()
        self._clock, self._minutes = clock, minutes

    def usergroups_users_list(self, **kw: Any) -> Any:
        self._clock[0] += timedelta(minutes=self._minutes)
        return super().usergroups_users_list(**kw)


def test_a_request_that_expires_during_the_approver_lookup_is_not_approved(
    deps: Deps, api: FakeBackupApi
) -> None:
    start = datetime.now(UTC)
    clock = [start]
    deps.clock = lambda: clock[0]
    client = SlowGroupClient(clock, minutes=3)
    raw = requested(deps, client)
    clock[0] = start + timedelta(minutes=29)  # in time when clicked, late once the lookup ends
    ts = card_ts(deps, raw)
    decide(deps, client, raw, user=MEMBER, channel=CHANNEL, message_ts=ts, approve=True)
    settle(deps)
    assert client.of("usergroups.users.list")  # the lookup happened
    assert stored(deps, raw).status == Status.EXPIRED
    assert "trigger_backup" not in api.names()
    assert "expired" in client.texts("chat.postEphemeral")


def test_an_expired_request_is_refused_before_the_approver_lookup(deps: Deps) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    deps.clock = lambda: datetime.now(UTC) + timedelta(minutes=31)
    ts = card_ts(deps, raw)
    decide(deps, client, raw, user=MEMBER, channel=CHANNEL, message_ts=ts, approve=True)
    assert client.of("usergroups.users.list") == []
    assert stored(deps, raw).status == Status.EXPIRED


# -- a request edited in the database ----------------------------------------------------------


def test_a_request_edited_in_the_database_is_refused_at_approval(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    assert deps.ledger is not None
    req = stored(deps, raw)
    args = {**req.params["args"], "retain_until": "2099-01-01"}
    with deps.store._write() as conn:
        conn.execute(
            update(approvals)
            .where(approvals.c.id == req.id)
            .values(params=json.dumps({**req.params, "args": args}, sort_keys=True))
        )
    ts = card_ts(deps, raw)
    decide(deps, client, raw, user=APPROVER, channel=CHANNEL, message_ts=ts, approve=True)
    settle(deps)
    assert stored(deps, raw).status == Status.PENDING
    assert last_refusal(deps) == "tampered"
    assert "trigger_backup" not in api.names()


def test_execution_recomputes_the_binding_and_runs_nothing_on_a_mismatch(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    assert deps.ledger is not None
    req = stored(deps, raw)
    now = deps.clock()
    assert deps.ledger.transition(req.id, Status.PENDING, Status.APPROVED, decided_at=now)
    # Between the approval and the run, someone with database access changes the plan text.
    with deps.store._write() as conn:
        conn.execute(
            update(approvals).where(approvals.c.id == req.id).values(plan=req.plan + " (edited)")
        )
    execute(deps, client, req.id)
    assert stored(deps, raw).status == Status.FAILED
    assert "trigger_backup" not in api.names()


# -- approver groups when Slack cannot be asked --------------------------------------------------


class GroupsClient:
    """usergroups.users.list answering from ``members``, or failing while ``down``."""

    def __init__(self) -> None:
        self.members = [MEMBER]
        self.down = False
        self.calls = 0

    def usergroups_users_list(self, **_kw: Any) -> Any:
        self.calls += 1
        if self.down:
            raise SlackApiError("ratelimited", {"ok": False, "error": "ratelimited"})
        return {"ok": True, "users": list(self.members)}


def test_a_stale_group_cache_fails_closed_while_slack_cannot_be_asked() -> None:
    now = [0.0]
    directory = ApproverDirectory(
        Approvers.parse([APPROVER, "SGRP"]), ttl=300.0, clock=lambda: now[0]
    )
    client = GroupsClient()
    assert directory.is_approver(client, MEMBER)
    client.down = True
    now[0] = 299.0  # still fresh: the cached answer stands without asking
    assert directory.is_approver(client, MEMBER)
    assert client.calls == 1
    now[0] = 301.0  # stale, and Slack fails: nobody approves through the group
    assert not directory.is_approver(client, MEMBER)
    assert directory.is_approver(client, APPROVER)  # a user named directly still can
    now[0] = 10_000.0  # however long it keeps failing
    assert not directory.is_approver(client, MEMBER)


def test_an_approver_removed_from_the_group_is_refused_once_the_cache_expires() -> None:
    now = [0.0]
    directory = ApproverDirectory(Approvers.parse(["SGRP"]), ttl=300.0, clock=lambda: now[0])
    client = GroupsClient()
    assert directory.is_approver(client, MEMBER)
    client.members = []  # removed from the group
    now[0] = 301.0
    assert not directory.is_approver(client, MEMBER)


# -- recovery after a crash ----------------------------------------------------------------------


def running_since(deps: Deps, raw: str, *, minutes: int) -> Any:
    """Approve the request and leave it running under a replica that died ``minutes`` ago."""
    assert deps.ledger is not None
    req = stored(deps, raw)
    then = deps.clock() - timedelta(minutes=minutes)
    assert deps.ledger.transition(req.id, Status.PENDING, Status.APPROVED, decided_at=then)
    assert deps.ledger.start_running(req.id, "dead-replica", then)
    return req


def test_a_scheduled_backup_after_the_approval_does_not_settle_an_interrupted_trigger(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    req = running_since(deps, raw, minutes=5)
    # The schedule started a backup of the VM after the approval; our call never got through.
    api.add_job(Job(VAULT, "sched-1", VM.name, "Backup", "InProgress", deps.clock(), None))
    assert reconcile(deps, client) == 1
    done = stored(deps, raw)
    assert done.status == Status.FAILED
    assert done.outcome["error"] == "interrupted"
    assert "sched-1" not in json.dumps(done.outcome)
    assert "trigger_backup" not in api.names()
    assert req.id in {r.request_id for r in deps.ledger.records() if r.event == "interrupted"}  # type: ignore[union-attr]


def test_an_interrupted_call_that_recorded_its_result_settles_on_that_job(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    req = running_since(deps, raw, minutes=5)
    assert deps.ledger is not None
    recorded = {"phase": "returned", "ok": True, "job_id": "job-ours", "operation_id": "op-1"}
    assert deps.ledger.note(req.id, "dead-replica", recorded)
    api.add_job(Job(VAULT, "sched-1", VM.name, "Backup", "InProgress", deps.clock(), None))
    assert reconcile(deps, client) == 1
    done = stored(deps, raw)
    assert done.status == Status.SUCCEEDED
    assert done.outcome["job_id"] == "job-ours"
    assert "job-ours" in client.texts()


def test_an_interrupted_call_that_only_recorded_its_start_is_not_guessed(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    req = running_since(deps, raw, minutes=5)
    assert deps.ledger is not None
    assert deps.ledger.note(req.id, "dead-replica", {"phase": "calling"})
    assert reconcile(deps, client) == 1
    assert stored(deps, raw).status == Status.FAILED


def test_a_run_records_what_the_call_returned_before_it_settles(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    seen: list[dict[str, Any]] = []
    assert deps.ledger is not None
    note = deps.ledger.note

    def spy(request_id: str, runner: str, outcome: Any) -> bool:
        seen.append(dict(outcome))
        return note(request_id, runner, outcome)

    deps.ledger.note = spy  # type: ignore[method-assign]
    ts = card_ts(deps, raw)
    decide(deps, client, raw, user=APPROVER, channel=CHANNEL, message_ts=ts, approve=True)
    settle(deps)
    assert [s["phase"] for s in seen] == ["calling", "returned"]
    assert seen[1]["job_id"] == "00000000-0000-0000-0000-000000000001"


# -- action channels and the thread's VM ---------------------------------------------------------


def test_outside_the_action_channels_answers_carry_no_azure_buttons_or_menu(
    store: Store,
    api: FakeBackupApi,
) -> None:
    deps = make_deps(store, api, action_channels=("COPS",))
    try:
        client = FakeClient()
        event = {
            "type": "message",
            "channel": CHANNEL,
            "user": REQUESTER,
            "ts": THREAD,
            "text": f"Backup of web-01 failed: {CODE}",
        }
        assert handle_message(deps, event, {"event_id": "Ev1"}, client, "UBOT") >= 1  # type: ignore[arg-type]
        posted = client.texts()
        assert CODE in posted  # answered
        assert "backup_fix.request." not in posted
        assert "backup_fix.diagnose." not in posted
        assert "backup_fix.pick_vm" not in posted
        assert api.calls == []
        assert deps.actions_in("COPS") == deps.actions
        assert deps.actions_in(CHANNEL) == frozenset()
    finally:
        assert deps.background is not None
        deps.background.shutdown()


def test_once_a_change_is_requested_only_its_requester_or_an_approver_moves_the_vm(
    deps: Deps,
) -> None:
    client = FakeClient()
    assert may_pick(deps, client, CHANNEL, THREAD, STRANGER)  # nothing requested yet
    requested(deps, client)
    assert not may_pick(deps, client, CHANNEL, THREAD, STRANGER)
    assert may_pick(deps, client, CHANNEL, THREAD, REQUESTER)
    assert may_pick(deps, client, CHANNEL, THREAD, APPROVER)
    assert may_pick(deps, client, CHANNEL, THREAD, MEMBER)  # through the approver group
    assert may_pick(deps, client, CHANNEL, "other.thread", STRANGER)


# -- settings ------------------------------------------------------------------------------------


def test_the_signing_key_is_a_secret_of_at_least_32_bytes_in_hex_or_base64() -> None:
    hex_key = "ab" * 32
    assert load_settings(signing_key=hex_key).key() == bytes.fromhex(hex_key)
    b64 = "q" * 43 + "="  # 32 bytes
    assert len(load_settings(signing_key=b64).key() or b"") == 32
    assert hex_key not in repr(load_settings(signing_key=hex_key))
    for bad in ("ab" * 31, "short", "!" * 50):
        with pytest.raises(SettingsError) as err:
            load_settings(signing_key=bad)
        assert "SIGNING_KEY" in str(err.value)


def test_remediations_need_the_signing_key_at_start() -> None:
    settings = load_settings(
        slack_bot_token="xoxb-1", slack_app_token="xapp-1", enabled_actions="trigger_backup"
    )
    with pytest.raises(SettingsError) as err:
        settings.check_serve()
    assert err.value.variable == "BACKUP_FIX_SIGNING_KEY"
    load_settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1").check_serve()  # no need
    keyed = load_settings(
        slack_bot_token="xoxb-1",
        slack_app_token="xapp-1",
        enabled_actions="trigger_backup",
        signing_key="cd" * 32,
    )
    keyed.check_serve()


def test_action_channels_setting() -> None:
    everywhere = load_settings()
    assert everywhere.acts_in("CANY")
    some = load_settings(action_channels="COPS, CSRE")
    assert some.action_channels == ("COPS", "CSRE")
    assert some.acts_in("CSRE")
    assert not some.acts_in("CRANDOM")
    with pytest.raises(SettingsError) as err:
        load_settings(action_channels="ops")
    assert "ACTION_CHANNELS" in str(err.value)
