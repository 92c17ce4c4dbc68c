"""The Slack side of diagnostics and approvals with plain fakes: the in-memory BackupApi, a
recording WebClient, a real SQLite store, the real KB, ledger and approval gate."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from actions.approvals import Approvers, Status
from actions.errors import AzureConflict
from actions.ledger import KEYED, Ledger
from actions.resources import Extension, Job, VmStatus
from bot import ids
from bot.app import with_azure
from bot.approvers import ApproverDirectory
from bot.blocks.actions import item_key
from bot.cli import main as cli_main
from bot.listeners import Deps
from bot.listeners.azure_actions import clicked, run_diagnostic
from bot.listeners.commands import command_replies
from bot.listeners.messages import handle_message
from bot.locale import LocaleCache
from bot.metrics import Metrics
from bot.remediate import decide, expire_overdue, request_fix
from bot.settings import Settings
from bot.threads import recall
from bot.vm_choice import choose, current_item, item_by_key, reader_lang, thread_of
from knowledge import load_kb
from knowledge.model import Lang
from store import Store, open_store
from tests.fakes.backup_api import VAULT, VM, FakeBackupApi, protected_vm

KB = load_kb()
CHANNEL, THREAD = "C1", "100.1"
REQUESTER, APPROVER, MEMBER, STRANGER = "UREQ", "UAPP", "UMEM", "USTR"
CODE = "ExtensionSnapshotFailedNoNetwork"
SIGNING_KEY = "6b" * 32  # BACKUP_FIX_SIGNING_KEY of these tests, hex


def events_of(deps: Deps) -> list[str]:
    """The audit events recorded, without the record that starts the keyed chain."""
    assert deps.ledger is not None
    return [r.event for r in deps.ledger.records() if r.event != KEYED]


def card_ts(deps: Deps, raw: str) -> str:
    """The ts of the card whose button value is ``raw`` (where a real click comes from)."""
    assert deps.ledger is not None
    found = deps.ledger.get(json.loads(raw)["id"])
    return found.card_ts or "" if found is not None else ""


class FakeClient:
    """Records Slack calls and answers like Slack; ``groups`` backs usergroups.users.list."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.groups: dict[str, list[str]] = {"SGRP": [MEMBER]}
        self.thread: list[dict[str, Any]] = []  # what conversations.replies answers
        self.locales: dict[str, str] = {}  # users.info's locale per user (default en-US)
        self._n = 0
        self._lock = threading.Lock()

    def _ok(self, method: str, kwargs: dict[str, Any], **data: Any) -> dict[str, Any]:
        with self._lock:
            self.calls.append((method, kwargs))
            self._n += 1
            return {"ok": True, "ts": f"200.{self._n}", **data}

    def chat_postMessage(self, **kw: Any) -> Any:  # noqa: N802 - Slack's names
        return self._ok("chat.postMessage", kw)

    def chat_postEphemeral(self, **kw: Any) -> Any:  # noqa: N802
        return self._ok("chat.postEphemeral", kw)

    def chat_update(self, **kw: Any) -> Any:
        return self._ok("chat.update", kw)

    def usergroups_users_list(self, **kw: Any) -> Any:
        return self._ok("usergroups.users.list", kw, users=self.groups.get(kw["usergroup"], []))

    def conversations_replies(self, **kw: Any) -> Any:
        return self._ok("conversations.replies", kw, messages=self.thread)

    def users_info(self, **kw: Any) -> Any:
        return self._ok("users.info", kw, user={"locale": self.locales.get(kw["user"], "en-US")})

    def of(self, method: str) -> list[dict[str, Any]]:
        return [kw for m, kw in self.calls if m == method]

    def texts(self, method: str = "chat.postMessage") -> str:
        return "\n".join(json.dumps(kw, ensure_ascii=False) for kw in self.of(method))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


JOB1 = "00000000-0000-0000-0000-000000000001"  # the first job the fake's trigger_backup starts


@pytest.fixture
def api() -> FakeBackupApi:
    fake = FakeBackupApi()
    fake.job_statuses[JOB1] = ["InProgress", "Completed"]
    fake.add_item(protected_vm())
    fake.set_status(VmStatus(VM, "VM running", "Succeeded", "2.7.1", "Ready", ""))
    return fake


def make_deps(store: Store, api: FakeBackupApi | None, **settings: Any) -> Deps:
    values: dict[str, Any] = {
        "vaults": (VAULT.id,),
        "enabled_actions": ("trigger_backup", "remove_snapshot_extension"),
        "approvers": (APPROVER, "SGRP"),
        "azure_polling_interval": 0,
        "signing_key": SIGNING_KEY,
        **settings,
    }
    config = Settings(**values)
    deps = Deps(
        settings=config,
        kb=KB,
        store=store,
        metrics=Metrics(),
        locale=LocaleCache(),
        ledger=Ledger(store, key=config.key()),
        approvers=ApproverDirectory(Approvers.parse(config.approvers)),
        approval_ttl=timedelta(minutes=config.approval_ttl_minutes),
    )
    if api is not None and config.vaults:
        with_azure(deps, config, api)
    return deps


@pytest.fixture
def deps(store: Store, api: FakeBackupApi) -> Iterator[Deps]:
    d = make_deps(store, api)
    yield d
    assert d.background is not None
    d.background.shutdown()


def settle(deps: Deps) -> None:
    assert deps.background is not None
    assert deps.background.idle(timeout=20)


def chosen(deps: Deps, client: FakeClient) -> None:
    item = deps.resolver.all_items()[0]  # type: ignore[union-attr]
    choose(deps, client, CHANNEL, THREAD, item, CODE, user=REQUESTER)


def card_value(client: FakeClient) -> str:
    for kw in client.of("chat.postMessage"):
        for block in kw.get("blocks") or []:
            for el in block.get("elements") or []:
                if el.get("action_id") == ids.APPROVE:
                    return str(el["value"])
    raise AssertionError("no approval card posted")


def requested(deps: Deps, client: FakeClient, name: str = "trigger_backup") -> str:
    chosen(deps, client)
    item = current_item(deps, CHANNEL, THREAD)
    assert item is not None
    req = request_fix(deps, client, item, name=name, user=REQUESTER, channel=CHANNEL, thread=THREAD)
    assert req is not None
    return card_value(client)


# --- which VM -------------------------------------------------------------------------------


def test_paste_naming_the_vm_settles_the_thread_and_shows_its_latest_job(
    deps: Deps, api: FakeBackupApi
) -> None:
    now = datetime.now(UTC)
    api.add_job(
        Job(
            VAULT,
            "job-1",
            VM.name,
            "Backup",
            "Failed",
            now - timedelta(hours=1),
            now,
            400001,
            "Snapshot failed",
            "Could not take a snapshot: no network",
        )
    )
    client = FakeClient()
    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": REQUESTER,
        "ts": THREAD,
        "text": f"Backup of web-01 failed: {CODE}",
    }
    assert handle_message(deps, event, {"event_id": "Ev1"}, client, "UBOT") >= 1  # type: ignore[arg-type]
    assert deps.background is not None
    assert deps.background.idle(10)  # the VM lookup runs off the listener thread
    remembered = recall(deps.store, CHANNEL, THREAD)
    assert remembered is not None
    assert remembered.vm_id == VM.id
    posted = client.texts()
    assert "This thread is about *web-01*" in posted
    assert "Could not take a snapshot: no network" in posted
    assert f"differs from {CODE}" in posted or f"agrees with {CODE}" in posted


def test_paste_without_a_vm_gets_the_menu_and_a_pick_settles_it(deps: Deps) -> None:
    client = FakeClient()
    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": REQUESTER,
        "ts": THREAD,
        "text": f"Backup failed with {CODE}",
    }
    handle_message(deps, event, {"event_id": "Ev2"}, client, "UBOT")  # type: ignore[arg-type]
    assert deps.background is not None
    assert deps.background.idle(10)
    menus = [
        b
        for kw in client.of("chat.postMessage")
        for b in kw["blocks"]
        if b["type"] == "actions" and b["elements"][0]["action_id"] == ids.PICK_VM
    ]
    assert len(menus) == 1
    option = menus[0]["elements"][0]["options"][0]
    assert option["value"].split("|") == [item_key(protected_vm()), CODE]
    assert recall(deps.store, CHANNEL, THREAD) is None
    item = item_by_key(deps, option["value"].split("|")[0])
    assert item is not None
    assert item_by_key(deps, "0" * 16) is None
    choose(deps, client, CHANNEL, THREAD, item, CODE, user=REQUESTER)
    assert current_item(deps, CHANNEL, THREAD) == item


def test_thread_of_payloads() -> None:
    in_thread = {
        "channel": {"id": "C9"},
        "message": {"ts": "5.5", "thread_ts": "5.0"},
        "container": {"channel_id": "C9"},
    }
    top = {"channel": {"id": "C9"}, "message": {"ts": "6.0"}, "container": {}}
    ephemeral = {"container": {"channel_id": "C9", "is_ephemeral": True}}
    assert thread_of(in_thread) == ("C9", "5.0")
    assert thread_of(top) == ("C9", "6.0")
    assert thread_of(ephemeral) == ("C9", None)
    body = {
        "user": {"id": "U1"},
        "actions": [{"action_id": ids.diagnose_id("locks"), "value": json.dumps({"code": CODE})}],
    }
    assert clicked(body) == ("U1", "locks", CODE)


# --- diagnostics ----------------------------------------------------------------------------


def test_diagnostic_report_offers_only_enabled_fixes_that_apply(
    deps: Deps, api: FakeBackupApi
) -> None:
    failed = Extension("VMSnapshot", "VMSnapshot", "1.0", "ProvisioningState/failed/1")
    api.set_status(VmStatus(VM, "VM running", "Succeeded", "2.7.1", "Ready", "", (failed,)))
    client = FakeClient()
    chosen(deps, client)
    run_diagnostic(deps, client, "vm_agent_status", CODE, CHANNEL, THREAD)
    report = client.of("chat.postMessage")[-1]
    assert "⚠️" in json.dumps(report["blocks"], ensure_ascii=False)
    ids_shown = [
        e["action_id"] for b in report["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert ids.request_id("remove_snapshot_extension") in ids_shown
    # Not enabled: no button even though it would fit.
    deps.guardrails.enabled = frozenset({"trigger_backup"})  # type: ignore[union-attr]
    run_diagnostic(deps, client, "vm_agent_status", CODE, CHANNEL, THREAD)
    report = client.of("chat.postMessage")[-1]
    assert ids.request_id("remove_snapshot_extension") not in json.dumps(report["blocks"])


def test_diagnostic_without_a_vm_posts_the_menu(deps: Deps) -> None:
    client = FakeClient()
    run_diagnostic(deps, client, "locks", CODE, CHANNEL, THREAD)
    assert ids.PICK_VM in client.texts()


def test_a_click_before_the_lookup_finds_the_vm_in_the_thread_root(deps: Deps) -> None:
    client = FakeClient()
    client.thread = [{"ts": THREAD, "text": f"{VM.id} failed: {CODE}"}]
    run_diagnostic(deps, client, "locks", CODE, CHANNEL, THREAD)
    assert ids.PICK_VM not in client.texts()
    assert recall(deps.store, CHANNEL, THREAD) is not None
    assert "Check locks" in client.texts()


def test_a_vm_outside_the_vaults_is_named_in_a_refusal(deps: Deps) -> None:
    client = FakeClient()
    rogue = (
        "/subscriptions/sub-9/resourceGroups/rg-x/providers/Microsoft.Compute/virtualMachines/rogue"
    )
    client.thread = [{"ts": THREAD, "text": f"{rogue} failed: {CODE}"}]
    run_diagnostic(deps, client, "locks", CODE, CHANNEL, THREAD)
    assert "VM rogue is not protected by a vault this bot may use" in client.texts()
    assert recall(deps.store, CHANNEL, THREAD) is None


# --- requests and approvals -----------------------------------------------------------------


def test_request_posts_a_card_and_audits(deps: Deps) -> None:
    client = FakeClient()
    value = json.loads(requested(deps, client))
    assert deps.ledger is not None
    req = deps.ledger.get(value["id"])
    assert req is not None
    assert req.status == Status.PENDING
    assert req.card_ts
    assert value["hash"] == req.plan_hash
    assert req.params["vm"] == VM.id
    assert "retain_until" in req.params["args"]
    card = client.texts()
    assert "POST" in card
    assert f"<@{REQUESTER}>" in card
    assert events_of(deps) == ["requested"]


def test_request_for_a_disabled_action_is_refused_privately(deps: Deps) -> None:
    client = FakeClient()
    chosen(deps, client)
    item = current_item(deps, CHANNEL, THREAD)
    assert item is not None
    assert (
        request_fix(
            deps, client, item, name="cancel_job", user=REQUESTER, channel=CHANNEL, thread=THREAD
        )
        is None
    )
    assert "not enabled" in client.texts("chat.postEphemeral")
    assert deps.ledger is not None
    assert events_of(deps) == ["refused"]


@pytest.mark.parametrize(
    ("user", "tamper", "reason"),
    [
        (REQUESTER, False, "own_request"),
        (STRANGER, False, "not_approver"),
        (APPROVER, True, "tampered"),
    ],
)
def test_refusals_are_private_and_audited(
    deps: Deps, api: FakeBackupApi, user: str, tamper: bool, reason: str
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    if tamper:
        data = json.loads(raw)
        raw = json.dumps({**data, "hash": "0" * 64})
    decide(
        deps, client, raw, user=user, channel=CHANNEL, message_ts=card_ts(deps, raw), approve=True
    )
    settle(deps)
    assert "trigger_backup" not in api.names()
    assert client.of("chat.postEphemeral")[-1]["user"] == user
    assert deps.ledger is not None
    last = list(deps.ledger.records())[-1]
    assert (last.event, last.detail["reason"]) == ("refused", reason)


def test_approval_runs_once_updates_the_card_and_follows_the_job(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    decide(
        deps, client, raw, user=MEMBER, channel=CHANNEL, message_ts=card_ts(deps, raw), approve=True
    )  # a group member
    settle(deps)
    assert api.names().count("trigger_backup") == 1
    assert deps.ledger is not None
    req = deps.ledger.get(json.loads(raw)["id"])
    assert req is not None
    assert req.status == Status.SUCCEEDED
    assert req.decided_by == MEMBER
    assert req.outcome["job_id"] == "00000000-0000-0000-0000-000000000001"
    events = events_of(deps)
    assert events == ["requested", "approved", "executing", "succeeded", "job_finished"]
    records = [r for r in deps.ledger.records() if r.event != KEYED]
    assert records[3].correlation_id == "corr-trigger"
    assert "done" in json.dumps(client.of("chat.update")[-1]["blocks"])
    posted = client.texts()
    assert "00000000-0000-0000-0000-000000000001" in posted
    assert "finished: Completed" in posted
    assert deps.metrics.actions_executed.labels("trigger_backup")._value.get() == 1
    # A second click (a Slack retry) is refused: already decided.
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


def test_twenty_racing_approvals_execute_once(deps: Deps, api: FakeBackupApi) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    barrier = threading.Barrier(20)

    def click() -> None:
        barrier.wait()
        decide(
            deps,
            client,
            raw,
            user=APPROVER,
            channel=CHANNEL,
            message_ts=card_ts(deps, raw),
            approve=True,
        )

    threads = [threading.Thread(target=click) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    settle(deps)
    assert api.names().count("trigger_backup") == 1
    assert deps.ledger is not None
    assert [r.event for r in deps.ledger.records()].count("approved") == 1
    assert len(client.of("chat.postEphemeral")) == 19


def test_reject_and_expiry(deps: Deps, api: FakeBackupApi) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    decide(
        deps,
        client,
        raw,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=card_ts(deps, raw),
        approve=False,
    )
    assert deps.ledger is not None
    assert deps.ledger.get(json.loads(raw)["id"]).status == Status.REJECTED  # type: ignore[union-attr]
    assert "Rejected by" in json.dumps(client.of("chat.update")[-1]["blocks"])
    # A fresh request, then the clock passes its expiry.
    item = current_item(deps, CHANNEL, THREAD)
    assert item is not None
    later = FakeClient()
    request_fix(
        deps, later, item, name="trigger_backup", user=REQUESTER, channel=CHANNEL, thread=THREAD
    )
    value = card_value(later)
    deps.clock = lambda: datetime.now(UTC) + timedelta(minutes=31)
    decide(
        deps,
        later,
        value,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=card_ts(deps, value),
        approve=True,
    )
    assert deps.ledger.get(json.loads(value)["id"]).status == Status.EXPIRED  # type: ignore[union-attr]
    assert "Expired" in json.dumps(later.of("chat.update")[-1]["blocks"])
    assert "expired" in later.texts("chat.postEphemeral")
    assert "trigger_backup" not in api.names()


def test_azure_failure_shows_a_fixed_sentence_and_reference(deps: Deps, api: FakeBackupApi) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    api.fail(
        "trigger_backup",
        AzureConflict("secret inner text", status=409, code="ScopeLocked", correlation_id="corr-9"),
    )
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
    assert deps.ledger is not None
    req = deps.ledger.get(json.loads(raw)["id"])
    assert req is not None
    assert req.status == Status.FAILED
    posted = client.texts()
    assert "secret inner text" not in posted
    assert "ScopeLocked" in posted
    assert "Reference:" in posted
    assert "corr-9" in posted
    last = list(deps.ledger.records())[-1]
    assert (last.event, last.correlation_id) == ("failed", "corr-9")
    assert deps.metrics.actions_failed.labels("trigger_backup")._value.get() == 1


def test_pending_request_survives_a_restart(store: Store, api: FakeBackupApi) -> None:
    first = make_deps(store, api)
    client = FakeClient()
    raw = requested(first, client)
    first.background.shutdown()  # type: ignore[union-attr]
    second = make_deps(store, api)  # a new process on the same database
    try:
        assert expire_overdue(second, client) == 0
        decide(
            second,
            client,
            raw,
            user=APPROVER,
            channel=CHANNEL,
            message_ts=card_ts(second, raw),
            approve=True,
        )
        settle(second)
        assert api.names().count("trigger_backup") == 1
        api.jobs.clear()  # the backup just started would block another one
        third = make_deps(store, api)
        request_fix(
            third,
            client,
            current_item(third, CHANNEL, THREAD),  # type: ignore[arg-type]
            name="trigger_backup",
            user=REQUESTER,
            channel=CHANNEL,
            thread=THREAD,
        )
        third.clock = lambda: datetime.now(UTC) + timedelta(hours=1)
        assert expire_overdue(third, client) == 1
        third.background.shutdown()  # type: ignore[union-attr]
    finally:
        second.background.shutdown()  # type: ignore[union-attr]


# --- no Azure, audit ------------------------------------------------------------------------


def test_without_vaults_there_are_no_azure_actions(store: Store, api: FakeBackupApi) -> None:
    deps = make_deps(store, api, vaults=())
    assert not deps.azure_ready
    assert deps.actions == frozenset()
    client = FakeClient()
    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": REQUESTER,
        "ts": THREAD,
        "text": f"Backup of web-01 failed: {CODE}",
    }
    handle_message(deps, event, {"event_id": "Ev9"}, client, "UBOT")  # type: ignore[arg-type]
    assert ids.REQUEST_PREFIX not in client.texts()
    assert ids.DIAGNOSE_PREFIX not in client.texts()
    assert api.calls == []


def test_audit_command_is_for_approvers(deps: Deps) -> None:
    client = FakeClient()
    requested(deps, client)
    refused, _ = command_replies(deps, client, "audit", STRANGER)  # type: ignore[arg-type]
    assert "only for the configured approvers" in refused[0].text
    shown, kind = command_replies(deps, client, "audit", MEMBER)  # type: ignore[arg-type]
    assert kind == "audit"
    assert "requested" in json.dumps(shown[0].blocks)


def test_group_members_are_cached(deps: Deps) -> None:
    client = FakeClient()
    assert deps.approvers is not None
    assert deps.approvers.is_approver(client, MEMBER)
    assert not deps.approvers.is_approver(client, STRANGER)
    assert len(client.of("usergroups.users.list")) == 1


def test_cli_audit_verify_names_an_edited_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    store = open_store(url)
    ledger = Ledger(store)
    for n in range(3):
        ledger.audit("refused", actor=f"U{n}", reason="not_approver")
    monkeypatch.setenv("BACKUP_FIX_DATABASE_URL", url)
    assert cli_main(["audit", "--since", "1h"]) == 0
    assert capsys.readouterr().out.count("refused") == 3
    assert cli_main(["audit", "--verify"]) == 0
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit SET actor = 'UEVIL' WHERE seq = 2"))
    store.close()
    assert cli_main(["audit", "--verify"]) == 1
    assert "record 2" in capsys.readouterr().out


def test_approval_ttl_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import SettingsError, load_settings

    monkeypatch.delenv("BACKUP_FIX_APPROVAL_TTL_MINUTES", raising=False)
    assert load_settings().approval_ttl_minutes == 30
    monkeypatch.setenv("BACKUP_FIX_APPROVAL_TTL_MINUTES", "1440")
    assert load_settings().approval_ttl_minutes == 1440
    for bad in ("0", "1441", "soon"):
        monkeypatch.setenv("BACKUP_FIX_APPROVAL_TTL_MINUTES", bad)
        with pytest.raises(SettingsError, match="BACKUP_FIX_APPROVAL_TTL_MINUTES"):
            load_settings()


# --- the reader's language ------------------------------------------------------------------

ZH: Lang = "zh-TW"


def zh_client(*users: str) -> FakeClient:
    client = FakeClient()
    client.locales.update(dict.fromkeys(users, ZH))
    return client


def test_a_zh_tw_requesters_card_and_outcome_stay_in_zh_tw_whoever_approves(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = zh_client(REQUESTER)
    raw = requested(deps, client)
    card = client.texts()
    assert "需要核准：執行隨選備份" in card
    assert '"text": "核准"' in card
    assert '"text": "拒絕"' in card
    assert f"要求者 <@{REQUESTER}>" in card
    assert "Approval needed" not in card
    assert "POST" in card  # the plan itself stays as hashed
    assert deps.ledger is not None
    assert deps.ledger.lang(json.loads(raw)["id"]) == ZH
    decide(
        deps,
        client,
        raw,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=card_ts(deps, raw),
        approve=True,
    )  # en-US approver
    settle(deps)
    assert api.names().count("trigger_backup") == 1
    update = json.dumps(client.of("chat.update")[-1], ensure_ascii=False)
    assert f"已由 <@{APPROVER}> 核准：完成" in update
    posted = client.texts()
    assert "Azure 作業：`00000000-0000-0000-0000-000000000001`" in posted
    assert "備份作業 00000000-0000-0000-0000-000000000001 已結束：Completed。" in posted
    assert "Approved by" not in update
    assert "Azure job:" not in posted


def test_an_english_requesters_card_stays_english_when_a_zh_tw_user_approves(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = zh_client(APPROVER)
    raw = requested(deps, client)
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
    update = json.dumps(client.of("chat.update")[-1], ensure_ascii=False)
    assert f"Approved by <@{APPROVER}>: done" in update
    assert "Azure job: `00000000-0000-0000-0000-000000000001`" in client.texts()
    assert "核准" not in client.texts() + update


@pytest.mark.parametrize(
    ("locale", "expected", "unexpected"),
    [
        (ZH, "只有設定的核准者可以決定這項要求。", "Only the configured approvers"),
        ("en-GB", "Only the configured approvers can decide this request.", "核准者"),
    ],
)
def test_a_refusal_is_in_the_clickers_language(
    deps: Deps, locale: str, expected: str, unexpected: str
) -> None:
    client = FakeClient()
    raw = requested(deps, client)
    client.locales[STRANGER] = locale
    decide(
        deps,
        client,
        raw,
        user=STRANGER,
        channel=CHANNEL,
        message_ts=card_ts(deps, raw),
        approve=True,
    )
    private = client.texts("chat.postEphemeral")
    assert expected in private
    assert unexpected not in private


def test_a_disabled_action_is_refused_in_zh_tw(deps: Deps) -> None:
    client = zh_client(REQUESTER)
    chosen(deps, client)
    item = current_item(deps, CHANNEL, THREAD)
    assert item is not None
    request_fix(
        deps, client, item, name="cancel_job", user=REQUESTER, channel=CHANNEL, thread=THREAD
    )
    assert "此處未啟用修復動作 cancel_job" in client.texts("chat.postEphemeral")
    assert deps.ledger is not None
    assert "not enabled" in list(deps.ledger.records())[-1].detail["reason"]  # audit: English


def test_a_zh_tw_clickers_report_frame_is_in_zh_tw(deps: Deps, api: FakeBackupApi) -> None:
    failed = Extension("VMSnapshot", "VMSnapshot", "1.0", "ProvisioningState/failed/1")
    api.set_status(VmStatus(VM, "VM running", "Succeeded", "2.7.1", "Ready", "", (failed,)))
    client = zh_client(MEMBER)
    chosen(deps, client)
    lang = reader_lang(deps, client, MEMBER)
    assert lang == ZH
    run_diagnostic(deps, client, "vm_agent_status", CODE, CHANNEL, THREAD, lang=lang)
    report = json.dumps(client.of("chat.postMessage")[-1], ensure_ascii=False)
    assert "檢查 VM 代理程式: web-01" in report
    assert "*客體代理程式*: Ready" in report  # a fixed finding label, translated
    assert "*延伸模組 VMSnapshot*" in report
    assert "移除失敗的 VMSnapshot 延伸模組" in report  # the request button
    assert "Guest agent" not in report


def test_a_zh_tw_pick_gets_the_menu_and_the_vm_line_in_zh_tw(deps: Deps) -> None:
    client = zh_client(MEMBER)
    run_diagnostic(deps, client, "locks", CODE, CHANNEL, THREAD, lang=ZH)
    assert "這是關於哪一台虛擬機器？" in client.texts()
    assert "選擇虛擬機器" in client.texts()
    item = deps.resolver.all_items()[0]  # type: ignore[union-attr]
    choose(deps, client, CHANNEL, THREAD, item, CODE, user=MEMBER, lang=ZH)
    assert f"此討論串討論的是復原服務保存庫 *{VAULT.name}* 中的 *web-01* (由 <@{MEMBER}> 選擇)" in (
        client.texts()
    )


def test_azure_failure_in_zh_tw_keeps_code_reference_and_correlation(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = zh_client(REQUESTER)
    raw = requested(deps, client)
    api.fail(
        "trigger_backup",
        AzureConflict("secret inner text", status=409, code="ScopeLocked", correlation_id="corr-9"),
    )
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
    posted = client.texts()
    assert "Azure 拒絕了，因為與資源的狀態或鎖定衝突 (ScopeLocked)。" in posted
    assert "相互關聯識別碼：corr-9。" in posted
    assert "參考編號：" in posted
    assert "secret inner text" not in posted


def test_the_audit_command_in_zh_tw(deps: Deps) -> None:
    client = zh_client(STRANGER, MEMBER)
    requested(deps, client)
    refused, _ = command_replies(deps, client, "audit", STRANGER)  # type: ignore[arg-type]
    assert refused[0].text == "只有設定的核准者可以查看稽核記錄。"
    shown, _ = command_replies(deps, client, "audit", MEMBER)  # type: ignore[arg-type]
    body = json.dumps(shown[0].blocks, ensure_ascii=False)
    assert "稽核記錄" in body
    assert f"requested 執行者 {REQUESTER} 要求 " in body
    english, _ = command_replies(deps, client, "--lang en audit", MEMBER)  # type: ignore[arg-type]
    assert f"requested by {REQUESTER} request " in json.dumps(english[0].blocks)


def test_the_requesters_language_survives_in_the_store_and_old_requests_read_english(
    deps: Deps, store: Store
) -> None:
    client = zh_client(REQUESTER)
    raw = requested(deps, client)
    request_id = json.loads(raw)["id"]
    assert Ledger(store).lang(request_id) == ZH
    with store.engine.begin() as conn:  # a request stored before the language was kept
        conn.execute(text("UPDATE approvals SET lang = NULL"))
    assert Ledger(store).lang(request_id) is None
    deps.clock = lambda: datetime.now(UTC) + timedelta(hours=1)
    assert expire_overdue(deps, client) == 1
    assert "Expired: nobody approved it in time" in json.dumps(client.of("chat.update")[-1])
