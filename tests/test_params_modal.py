"""The approval card's "Change parameters" modal with plain fakes: the in-memory BackupApi, a
recording WebClient, a real SQLite store, the real ledger and approval gate."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.views import View

from actions.approvals import ApprovalRequest, Status
from actions.base import Context
from actions.errors import AzureForbidden
from actions.remediations.remove_rg_lock import RemoveRgLockParams
from actions.remediations.trigger_backup import TriggerBackupParams
from actions.resources import Extension, Job, Lock, RestorePointCollection, VmStatus
from bot import ids
from bot.blocks.actions import card_blocks
from bot.blocks.params_modal import Choice, form_for, submitted
from bot.listeners import Deps
from bot.listeners.params_modal import open_editor, read_choices, review
from bot.remediate import decide, request_fix, supersede
from bot.vm_choice import current_item
from store import Store, open_store
from tests.fakes.backup_api import VAULT, VM, FakeBackupApi
from tests.test_actions_listeners import (
    APPROVER,
    CHANNEL,
    JOB1,
    REQUESTER,
    STRANGER,
    THREAD,
    FakeClient,
    card_ts,
    chosen,
    make_deps,
    settle,
)
from tests.test_actions_listeners import api as api

RG_LOCKS = "AzureBackupRG_eastasia_1"
RG_LOCKS2 = "AzureBackupRG_eastasia_2"


class ModalClient(FakeClient):
    """The recording client, also answering views.open."""

    def views_open(self, **kw: Any) -> Any:
        return self._ok("views.open", kw, view={"id": "V1", **kw["view"]})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


@pytest.fixture
def deps(store: Store, api: FakeBackupApi) -> Iterator[Deps]:
    enabled = ("trigger_backup", "remove_rg_lock", "resume_protection")
    d = make_deps(store, api, enabled_actions=enabled)
    yield d
    assert d.background is not None
    d.background.shutdown()


def ask(deps: Deps, client: FakeClient, name: str = "trigger_backup") -> ApprovalRequest:
    chosen(deps, client)
    item = current_item(deps, CHANNEL, THREAD)
    assert item is not None
    req = request_fix(deps, client, item, name=name, user=REQUESTER, channel=CHANNEL, thread=THREAD)
    assert req is not None
    return req


def card_values(client: FakeClient, action_id: str = ids.APPROVE) -> list[str]:
    """The values of every posted card's ``action_id`` button, oldest first."""
    return [
        str(el["value"])
        for kw in client.of("chat.postMessage")
        for block in kw.get("blocks") or []
        for el in block.get("elements") or []
        if el.get("action_id") == action_id
    ]


def opened(client: ModalClient) -> dict[str, Any]:
    (call,) = client.of("views.open")
    view: dict[str, Any] = call["view"]
    return view


def blocks_by_id(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"]}


def submission(view: dict[str, Any], **state: dict[str, Any]) -> dict[str, Any]:
    """The ``view`` of a view_submission: the modal as opened, with ``state`` per block."""
    values = {block: {ids.param_id(block): value} for block, value in state.items()}
    return {**view, "id": "V1", "state": {"values": values}}


def picked(day: date | str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": str(day)}


def edit(deps: Deps, client: ModalClient, req: ApprovalRequest, user: str = REQUESTER) -> None:
    raw = json.dumps({"id": req.id, "hash": req.plan_hash})
    open_editor(deps, client, raw, user=user, trigger_id="13.1.abc", channel=CHANNEL)


def today() -> date:
    return datetime.now(UTC).date()


# --- the card and the modal -------------------------------------------------------------------


def test_the_card_offers_change_parameters_with_the_approve_value(deps: Deps) -> None:
    client = ModalClient()
    ask(deps, client)
    (edit_value,) = card_values(client, ids.EDIT_PARAMS)
    assert card_values(client) == [edit_value]
    # Decided cards have no buttons at all.
    req = deps.ledger.with_status(Status.PENDING)[0]  # type: ignore[union-attr]
    decided = card_blocks(dataclasses.replace(req, status=Status.REJECTED))
    assert not [b for b in decided if b["type"] == "actions"]


def test_the_requester_opens_a_modal_with_a_datepicker_set_to_the_current_date(
    deps: Deps,
) -> None:
    client = ModalClient()
    req = ask(deps, client)
    edit(deps, client, req)
    (call,) = client.of("views.open")
    assert call["trigger_id"] == "13.1.abc"
    view = call["view"]
    View(**view).validate_json()  # Slack's own model of a modal accepts it
    assert view["callback_id"] == ids.PARAMS_MODAL
    assert json.loads(view["private_metadata"]) == {"id": req.id, "hash": req.plan_hash}
    picker = blocks_by_id(view)["retain_until"]["element"]
    assert picker["type"] == "datepicker"
    assert picker["action_id"] == ids.param_id("retain_until")
    assert picker["initial_date"] == req.params["args"]["retain_until"]
    assert client.of("chat.postEphemeral") == []


def restore_points_in(api: FakeBackupApi, group: str) -> None:
    """``group`` holds a restore-point collection of the VM (only its locks may be removed)."""
    api.groups[VM.subscription_id].append(group)
    api.add_collection(RestorePointCollection(VM.subscription_id, group, f"rpc-{group}", VM.id, 4))


def test_a_lock_is_picked_from_the_locks_on_the_vms_restore_points(
    deps: Deps, api: FakeBackupApi
) -> None:
    restore_points_in(api, RG_LOCKS)
    restore_points_in(api, RG_LOCKS2)
    api.add_lock(Lock(VM.subscription_id, RG_LOCKS, "keep-rp", "CanNotDelete", "OPS-42"))
    api.add_lock(Lock(VM.subscription_id, RG_LOCKS2, "freeze", "ReadOnly"))
    api.add_lock(Lock(VM.subscription_id, VM.resource_group, "app-lock", "ReadOnly"))
    client = ModalClient()
    req = ask(deps, client, "remove_rg_lock")
    edit(deps, client, req)
    view = opened(client)
    View(**view).validate_json()
    menu = blocks_by_id(view)[ids.CHOICE]["element"]
    assert menu["type"] == "static_select"
    values = [o["value"] for o in menu["options"]]
    # The VM's own group holds no restore points: its lock is not one to offer.
    assert values == [f"{RG_LOCKS}/keep-rp", f"{RG_LOCKS2}/freeze"]
    assert menu["initial_option"]["value"] == f"{RG_LOCKS}/keep-rp"
    assert "CanNotDelete" in menu["initial_option"]["text"]["text"]


def test_when_the_read_fails_the_modal_has_text_inputs(deps: Deps, api: FakeBackupApi) -> None:
    restore_points_in(api, RG_LOCKS)
    api.add_lock(Lock(VM.subscription_id, RG_LOCKS, "keep-rp", "CanNotDelete"))
    client = ModalClient()
    req = ask(deps, client, "remove_rg_lock")
    api.fail("list_locks", AzureForbidden("no", status=403), times=5)
    edit(deps, client, req)
    view = opened(client)
    by_id = blocks_by_id(view)
    assert ids.CHOICE not in by_id
    assert by_id["resource_group"]["element"]["type"] == "plain_text_input"
    assert by_id["lock_name"]["element"]["initial_value"] == "keep-rp"


def test_a_policy_is_a_text_input_set_to_the_current_policy(deps: Deps, api: FakeBackupApi) -> None:
    stopped = dataclasses.replace(api.items[VAULT.id][0], protection_state="ProtectionStopped")
    api.items[VAULT.id][0] = stopped
    client = ModalClient()
    req = ask(deps, client, "resume_protection")
    edit(deps, client, req)
    element = blocks_by_id(opened(client))["policy_id"]["element"]
    assert element["type"] == "plain_text_input"
    assert element["initial_value"] == stopped.policy_id


def test_someone_else_is_refused_privately(deps: Deps) -> None:
    client = ModalClient()
    req = ask(deps, client)
    edit(deps, client, req, user=STRANGER)
    assert client.of("views.open") == []
    (said,) = client.of("chat.postEphemeral")
    assert said["user"] == STRANGER
    assert "Only the person who asked" in said["text"]
    last = list(deps.ledger.records())[-1]  # type: ignore[union-attr]
    assert (last.event, last.detail["reason"]) == ("refused", "not_requester")


def test_a_decided_or_expired_request_is_refused_like_approve(deps: Deps) -> None:
    client = ModalClient()
    req = ask(deps, client)
    raw = json.dumps({"id": req.id, "hash": req.plan_hash})
    decide(
        deps,
        client,
        raw,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=card_ts(deps, raw),
        approve=False,
    )
    edit(deps, client, req)
    assert client.of("views.open") == []
    assert "already been decided" in client.of("chat.postEphemeral")[-1]["text"]
    late = ask(deps, client)
    deps.clock = lambda: datetime.now(UTC) + timedelta(hours=2)
    edit(deps, client, late)
    assert client.of("views.open") == []
    assert "expired" in client.of("chat.postEphemeral")[-1]["text"]
    assert deps.ledger.get(late.id).status == Status.EXPIRED  # type: ignore[union-attr]


def test_a_forged_value_is_refused(deps: Deps) -> None:
    client = ModalClient()
    req = ask(deps, client)
    raw = json.dumps({"id": req.id, "hash": "0" * 64})
    open_editor(deps, client, raw, user=REQUESTER, trigger_id="1", channel=CHANNEL)
    assert client.of("views.open") == []
    assert "does not match" in client.of("chat.postEphemeral")[-1]["text"]


# --- submissions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "why"),
    [
        ({"retain_until": picked(date(2001, 1, 1))}, "not in the future"),
        ({"retain_until": picked("2025-13-40")}, "Pick a date"),
        ({"retain_until": {"type": "datepicker", "selected_date": None}}, "Pick a date"),
        ({}, "Pick a date"),
    ],
)
def test_an_invalid_date_comes_back_as_a_block_error(
    deps: Deps, api: FakeBackupApi, state: dict[str, Any], why: str
) -> None:
    client = ModalClient()
    req = ask(deps, client)
    edit(deps, client, req)
    errors, ready = review(deps, client, submission(opened(client), **state), REQUESTER)
    assert ready is None
    assert list(errors) == ["retain_until"]
    assert why in errors["retain_until"]
    assert deps.ledger.get(req.id).status == Status.PENDING  # type: ignore[union-attr]


def test_a_zh_tw_requester_gets_errors_in_zh_tw(deps: Deps) -> None:
    client = ModalClient()
    client.locales[REQUESTER] = "zh-TW"
    req = ask(deps, client)
    edit(deps, client, req)
    view = opened(client)
    assert blocks_by_id(view)["retain_until"]["label"]["text"] == "復原點保留至 (UTC)"
    errors, _ = review(deps, client, submission(view, retain_until=picked("x")), REQUESTER)
    assert errors == {"retain_until": "請選擇日期 (UTC)。"}
    past = submission(view, retain_until=picked(date(2001, 1, 1)))
    assert review(deps, client, past, REQUESTER)[0] == {
        "retain_until": "保留期限 2001-01-01 不是未來的日期。"
    }


def test_an_unchanged_submission_changes_nothing(deps: Deps) -> None:
    client = ModalClient()
    req = ask(deps, client)
    edit(deps, client, req)
    same = picked(req.params["args"]["retain_until"])
    assert review(deps, client, submission(opened(client), retain_until=same), REQUESTER) == (
        {},
        None,
    )


def test_a_change_supersedes_the_request_and_only_the_new_card_executes(
    deps: Deps, api: FakeBackupApi
) -> None:
    client = ModalClient()
    old = ask(deps, client)
    edit(deps, client, old)
    new_day = today() + timedelta(days=90)
    errors, ready = review(
        deps, client, submission(opened(client), retain_until=picked(new_day)), REQUESTER
    )
    assert errors == {}
    assert ready is not None
    new = supersede(
        deps, client, ready.request, ready.item, args=ready.args, plan=ready.plan, user=REQUESTER
    )
    assert new is not None
    ledger = deps.ledger
    assert ledger is not None
    gone = ledger.get(old.id)
    assert gone is not None
    assert (gone.status, gone.outcome["superseded_by"]) == (Status.REJECTED, new.id)
    assert new.params["args"] == {"retain_until": new_day.isoformat()}
    assert (new.requester, new.thread_ts, new.channel) == (REQUESTER, THREAD, CHANNEL)
    assert new.plan_hash != old.plan_hash
    assert new.expires_at > old.expires_at
    # The new card in the thread, with its own hash; the old card says it was replaced.
    old_value, new_value = card_values(client)
    assert json.loads(new_value) == {"id": new.id, "hash": new.plan_hash}
    assert client.of("chat.postMessage")[-1]["thread_ts"] == THREAD
    update = client.of("chat.update")[-1]
    assert "Replaced by" in json.dumps(update["blocks"])
    assert new.id in json.dumps(update["blocks"])
    assert ids.APPROVE not in json.dumps(update["blocks"])
    modified = [r for r in ledger.records() if r.event == "modified"]
    assert len(modified) == 1
    assert modified[0].request_id == old.id
    assert modified[0].detail["old_plan_hash"] == old.plan_hash
    assert modified[0].detail["new_plan_hash"] == new.plan_hash
    # Approving the old card is refused; approving the new one runs once, with the new date.
    decide(
        deps,
        client,
        old_value,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=card_ts(deps, old_value),
        approve=True,
    )
    assert "already been decided" in client.of("chat.postEphemeral")[-1]["text"]
    decide(
        deps,
        client,
        new_value,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=card_ts(deps, new_value),
        approve=True,
    )
    decide(
        deps,
        client,
        new_value,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=card_ts(deps, new_value),
        approve=True,
    )
    settle(deps)
    triggers = [args for name, args in api.calls if name == "trigger_backup"]
    assert len(triggers) == 1
    assert triggers[0][1] == datetime(new_day.year, new_day.month, new_day.day, tzinfo=UTC)
    assert ledger.get(new.id).status == Status.SUCCEEDED  # type: ignore[union-attr]
    assert ledger.get(old.id).status == Status.REJECTED  # type: ignore[union-attr]
    assert JOB1 in client.texts()


def test_a_request_decided_while_the_modal_was_open_is_not_superseded(deps: Deps) -> None:
    client = ModalClient()
    old = ask(deps, client)
    edit(deps, client, old)
    later = today() + timedelta(days=60)
    _, ready = review(
        deps, client, submission(opened(client), retain_until=picked(later)), REQUESTER
    )
    assert ready is not None
    raw = json.dumps({"id": old.id, "hash": old.plan_hash})
    decide(
        deps,
        client,
        raw,
        user=APPROVER,
        channel=CHANNEL,
        message_ts=card_ts(deps, raw),
        approve=False,
    )
    posted = len(client.of("chat.postMessage"))
    new = supersede(
        deps, client, ready.request, ready.item, args=ready.args, plan=ready.plan, user=REQUESTER
    )
    assert new is None
    assert len(client.of("chat.postMessage")) == posted  # no new card
    assert "already been decided" in client.of("chat.postEphemeral")[-1]["text"]
    assert len(deps.ledger.with_status(Status.PENDING)) == 0  # type: ignore[union-attr]


def test_a_lock_change_goes_through_the_menu(deps: Deps, api: FakeBackupApi) -> None:
    restore_points_in(api, RG_LOCKS2)
    restore_points_in(api, RG_LOCKS)
    api.add_lock(Lock(VM.subscription_id, RG_LOCKS, "keep-rp", "CanNotDelete"))
    api.add_lock(Lock(VM.subscription_id, RG_LOCKS2, "freeze", "ReadOnly"))
    client = ModalClient()
    req = ask(deps, client, "remove_rg_lock")
    edit(deps, client, req)
    view = opened(client)
    menu = blocks_by_id(view)[ids.CHOICE]["element"]
    other = next(o for o in menu["options"] if "keep-rp" in o["value"])
    choice = {"type": "static_select", "selected_option": other}
    errors, ready = review(deps, client, submission(view, choice=choice), REQUESTER)
    assert errors == {}
    assert ready is not None
    assert ready.args == {"resource_group": RG_LOCKS, "lock_name": "keep-rp"}
    forged = {"type": "static_select", "selected_option": {"value": f"{RG_LOCKS}/nope"}}
    errors, ready = review(deps, client, submission(view, choice=forged), REQUESTER)
    assert ready is None
    assert "There is no lock nope" in errors[ids.CHOICE]


# --- the pure parts ---------------------------------------------------------------------------


def test_a_form_without_choices_or_with_oversized_values_has_no_menu() -> None:
    menu = ("resource_group", "lock_name")
    plain = form_for("remove_rg_lock", RemoveRgLockParams, menu=menu)
    assert plain.blocks == ["resource_group", "lock_name"]
    long = Choice({"resource_group": "rg", "lock_name": "x" * 200}, "opt_current", {"value": "x"})
    assert form_for("remove_rg_lock", RemoveRgLockParams, menu=menu, choices=[long]).menu == ()
    short = Choice({"resource_group": "rg", "lock_name": "l"}, "opt_current", {"value": "x"})
    form = form_for("remove_rg_lock", RemoveRgLockParams, menu=menu, choices=[short])
    assert form.blocks == [ids.CHOICE]
    bad = {ids.CHOICE: {ids.param_id(ids.CHOICE): {"selected_option": {"value": "a/b/c"}}}}
    assert submitted(form, bad) == ({}, {ids.CHOICE})


def test_a_date_field_becomes_a_datepicker() -> None:
    form = form_for("trigger_backup", TriggerBackupParams)
    assert form.dates == frozenset({"retain_until"})
    good = {"retain_until": {ids.param_id("retain_until"): picked("2030-01-02")}}
    assert submitted(form, good) == ({"retain_until": "2030-01-02"}, set())


def test_the_menus_list_the_vms_collections_running_jobs_and_failed_extensions(
    api: FakeBackupApi,
) -> None:
    item = api.items[VAULT.id][0]
    now = datetime.now(UTC)
    api.groups[VM.subscription_id].append(RG_LOCKS)
    api.add_collection(RestorePointCollection(VM.subscription_id, RG_LOCKS, "rpc-1", VM.id, 12))
    api.add_collection(RestorePointCollection(VM.subscription_id, RG_LOCKS, "rpc-x", "/other", 3))
    api.add_job(Job(VAULT, "job-run", VM.name, "Backup", "InProgress", now, None))
    api.add_job(Job(VAULT, "job-other", "db-01", "Backup", "InProgress", now, None))
    failed = Extension("VMSnapshot", "VMSnapshot", "1.0", "ProvisioningState/failed/1")
    fine = Extension("CustomScript", "CustomScriptExtension", "1.0", "ProvisioningState/failed")
    api.set_status(VmStatus(VM, "VM running", "Succeeded", "2.7", "Ready", "", (failed, fine)))
    ctx = Context(item, api, now)
    (rpc,) = read_choices("delete_restore_point_collection", ctx)
    assert rpc.params == {"resource_group": RG_LOCKS, "collection_name": "rpc-1"}
    assert "12 restore points" in rpc.text("en")
    (job,) = read_choices("cancel_job", ctx)
    assert job.params == {"job_name": "job-run"}
    (ext,) = read_choices("remove_snapshot_extension", ctx)
    assert ext.params == {"extension_name": "VMSnapshot"}
    assert read_choices("trigger_backup", ctx) == []
