"""Remediations over the in-memory BackupApi: defaults, plans (blocked when they don't apply),
and execute's re-check right before the one Azure call."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from actions.base import Context, Params
from actions.errors import AzureConflict, NotAllowed
from actions.names import REMEDIATIONS as NAMES
from actions.remediations import REMEDIATIONS
from actions.resources import Extension, Job, Lock, RestorePointCollection, VmStatus
from tests.fakes.backup_api import VAULT, VM, FakeBackupApi, protected_vm

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CHANGES = {
    "trigger_backup",
    "cancel_job",
    "delete_extension",
    "delete_lock",
    "delete_restore_point_collection",
    "resume_protection",
}


@pytest.fixture
def api() -> FakeBackupApi:
    return FakeBackupApi()


def ctx(api: FakeBackupApi, protection_state: str = "Protected") -> Context:
    if not api.items[VAULT.id]:
        api.add_item(protected_vm(protection_state=protection_state))
    return Context(item=api.items[VAULT.id][0], api=api, now=NOW)


def changes(api: FakeBackupApi) -> list[str]:
    return [n for n in api.names() if n in CHANGES]


def test_registry_and_shapes() -> None:
    assert sorted(REMEDIATIONS) == sorted(NAMES)
    for name, rem in REMEDIATIONS.items():
        assert rem.name == name
        assert rem.params_model.model_config.get("extra") == "forbid"
        assert len(rem.__class__.__doc__ or "") > 80


@pytest.mark.parametrize("name", NAMES)
def test_params_refuse_unknown_fields(name: str) -> None:
    with pytest.raises(ValidationError):
        REMEDIATIONS[name].params_model.model_validate({"surprise": 1})


# trigger_backup
def test_trigger_backup_default_plan_and_execute(api: FakeBackupApi) -> None:
    c = ctx(api)
    rem = REMEDIATIONS["trigger_backup"]
    params = rem.default_params(c)
    assert params.model_dump() == {"retain_until": date(2025, 3, 31)}
    plan = rem.plan(params, c)
    assert plan.blocked is None
    assert plan.operations[0].verb == "POST"
    assert plan.operations[0].resource_id.endswith(
        "/protectedItems/VM;iaasvmcontainerv2;rg-app;web-01/backup"
    )
    assert "2025-03-31" in plan.text()
    outcome = rem.execute(params, c)
    assert outcome.job_id
    assert api.calls[-1] == ("trigger_backup", (c.item, datetime(2025, 3, 31, tzinfo=UTC)))


@pytest.mark.parametrize(
    ("retain", "reason"),
    [(date(2025, 3, 1), "not in the future"), (date(2035, 3, 2), "more than 10 years")],
)
def test_trigger_backup_refuses_bad_dates(api: FakeBackupApi, retain: date, reason: str) -> None:
    rem = REMEDIATIONS["trigger_backup"]
    params = rem.params_model.model_validate({"retain_until": retain.isoformat()})
    assert reason in (rem.plan(params, ctx(api)).blocked or "")
    with pytest.raises(NotAllowed, match=reason):
        rem.execute(params, ctx(api))
    assert changes(api) == []


def test_trigger_backup_accepts_tomorrow_and_ten_years(api: FakeBackupApi) -> None:
    rem = REMEDIATIONS["trigger_backup"]
    for retain in ("2025-03-02", "2035-03-01"):
        params = rem.params_model.model_validate({"retain_until": retain})
        assert rem.plan(params, ctx(api)).blocked is None


def test_trigger_backup_blocked_by_running_job_and_stopped_protection(api: FakeBackupApi) -> None:
    rem = REMEDIATIONS["trigger_backup"]
    c = ctx(api)
    params = rem.default_params(c)
    api.add_job(Job(VAULT, "run-1", VM.name, "Backup", "InProgress", NOW, None))
    assert "run-1" in (rem.plan(params, c).blocked or "")
    stopped = dataclasses.replace(c, item=protected_vm(protection_state="ProtectionStopped"))
    assert "resume protection" in (rem.plan(params, stopped).blocked or "")


def test_trigger_backup_rechecks_item_state_before_acting(api: FakeBackupApi) -> None:
    c = ctx(api)
    rem = REMEDIATIONS["trigger_backup"]
    params = rem.default_params(c)
    assert rem.plan(params, c).blocked is None
    api.items[VAULT.id][0] = protected_vm(protection_state="BackupsSuspended")
    with pytest.raises(NotAllowed, match="BackupsSuspended"):
        rem.execute(params, c)
    assert changes(api) == []


# cancel_job
def test_cancel_job(api: FakeBackupApi) -> None:
    c = ctx(api)
    rem = REMEDIATIONS["cancel_job"]
    assert rem.plan(rem.default_params(c), c).blocked == "No backup job of this VM is in progress."
    api.add_job(Job(VAULT, "run-1", VM.name, "Backup", "InProgress", NOW, None))
    params = rem.default_params(c)
    plan = rem.plan(params, c)
    assert plan.blocked is None
    assert plan.operations[0].resource_id == f"{VAULT.id}/backupJobs/run-1/cancel"
    rem.execute(params, c)
    assert changes(api) == ["cancel_job"]
    with pytest.raises(NotAllowed, match="Cancelling, not in progress"):
        rem.execute(params, c)


def test_cancel_job_refuses_another_vms_job(api: FakeBackupApi) -> None:
    c = ctx(api)
    api.add_job(Job(VAULT, "run-2", "db-01", "Backup", "InProgress", NOW, None))
    rem = REMEDIATIONS["cancel_job"]
    params = rem.params_model.model_validate({"job_name": "run-2"})
    assert "not web-01" in (rem.plan(params, c).blocked or "")
    missing = rem.params_model.model_validate({"job_name": "nope"})
    assert "not in vault" in (rem.plan(missing, c).blocked or "")
    with pytest.raises(ValidationError):
        rem.params_model.model_validate({"job_name": "../../x"})


# remove_snapshot_extension
def _status(*exts: Extension) -> VmStatus:
    return VmStatus(VM, "VM running", "Succeeded", "2.7", "Ready", "", exts)


def test_remove_snapshot_extension(api: FakeBackupApi) -> None:
    c = ctx(api)
    rem = REMEDIATIONS["remove_snapshot_extension"]
    api.set_status(_status(Extension("VMSnapshot", "VMSnapshot", "1.0", "Provisioning succeeded")))
    assert "no failed" in (rem.plan(rem.default_params(c), c).blocked or "")
    forced = rem.params_model.model_validate({"extension_name": "VMSnapshot"})
    assert "not failed" in (rem.plan(forced, c).blocked or "")
    failed = Extension("VMSnapshotLinux", "VMSnapshotLinux", "1.0", "Provisioning failed")
    api.set_status(_status(failed, Extension("Mon", "AzureMonitor", "1", "Provisioning failed")))
    params = rem.default_params(c)
    plan = rem.plan(params, c)
    assert plan.blocked is None
    assert plan.operations[0].resource_id == f"{VM.id}/extensions/VMSnapshotLinux"
    outcome = rem.execute(params, c)
    assert outcome.details["next"] == "trigger_backup"
    assert api.calls[-1] == ("delete_extension", (VM, failed))
    other = rem.params_model.model_validate({"extension_name": "Mon"})
    assert "not Azure Backup's" in (rem.plan(other, c).blocked or "")


# remove_rg_lock
RP_RG = "AzureBackupRG_westeurope_1"


def holds_restore_points(api: FakeBackupApi, group: str, source: str = VM.id) -> None:
    api.groups[VM.subscription_id] = [*api.groups.get(VM.subscription_id, []), group]
    api.add_collection(
        RestorePointCollection(VM.subscription_id, group, f"AzureBackup_{group}", source, 5)
    )


def test_remove_rg_lock(api: FakeBackupApi) -> None:
    c = ctx(api)
    rem = REMEDIATIONS["remove_rg_lock"]
    assert rem.plan(rem.default_params(c), c).blocked is not None
    holds_restore_points(api, RP_RG)
    api.add_lock(Lock(VM.subscription_id, "rg-app", "app", "CanNotDelete"))
    lock = api.add_lock(Lock(VM.subscription_id, RP_RG, "keep", "CanNotDelete", "by ops"))
    params = rem.default_params(c)
    assert params.model_dump() == {"resource_group": RP_RG, "lock_name": "keep"}
    text = rem.plan(params, c).text()
    assert "lock 'keep' (level CanNotDelete; notes: by ops)" in text
    assert f"/resourceGroups/{RP_RG}/providers/Microsoft.Authorization/locks/keep" in text
    rem.execute(params, c)
    assert api.calls[-1] == ("delete_lock", (lock,))
    with pytest.raises(NotAllowed, match="no lock keep"):
        rem.execute(params, c)


def test_remove_rg_lock_never_defaults_to_a_lock_outside_the_restore_point_group(
    api: FakeBackupApi,
) -> None:
    # The VM's own group has a CanNotDelete lock protecting production; the restore points
    # live elsewhere, unlocked. Nothing is offered.
    c = ctx(api)
    holds_restore_points(api, RP_RG)
    api.add_lock(Lock(VM.subscription_id, VM.resource_group, "prod", "CanNotDelete", "prod"))
    api.add_lock(Lock(VM.subscription_id, "AzureBackupRG_westeurope_2", "other", "ReadOnly"))
    rem = REMEDIATIONS["remove_rg_lock"]
    params = rem.default_params(c)
    assert params.model_dump() == {"resource_group": "", "lock_name": ""}
    assert rem.plan(params, c).blocked is not None


@pytest.mark.parametrize(
    ("group", "lock"),
    [
        ("rg-prod", "keep"),  # a group of the subscription that holds no restore points
        ("rg-app", "prod"),  # the VM's own group, when its restore points live elsewhere
        ("AzureBackupRG_westeurope_2", "other"),  # another VM's restore-point group
    ],
)
def test_remove_rg_lock_only_in_the_vms_restore_point_group(
    api: FakeBackupApi, group: str, lock: str
) -> None:
    c = ctx(api)
    holds_restore_points(api, RP_RG)
    holds_restore_points(api, "AzureBackupRG_westeurope_2", source=VM.id + "-other")
    api.add_lock(Lock(VM.subscription_id, group, lock, "CanNotDelete"))
    rem = REMEDIATIONS["remove_rg_lock"]
    params = rem.params_model.model_validate({"resource_group": group, "lock_name": lock})
    assert "does not hold restore points" in (rem.plan(params, c).blocked or "")
    with pytest.raises(NotAllowed):
        rem.execute(params, c)
    assert changes(api) == []


def test_remove_rg_lock_rechecks_the_group_at_execute(api: FakeBackupApi) -> None:
    c = ctx(api)
    holds_restore_points(api, RP_RG)
    api.add_lock(Lock(VM.subscription_id, RP_RG, "keep", "CanNotDelete"))
    rem = REMEDIATIONS["remove_rg_lock"]
    params = rem.default_params(c)
    assert rem.plan(params, c).blocked is None
    api.collections[(VM.subscription_id, RP_RG.lower())].clear()  # the collection went away
    with pytest.raises(NotAllowed, match="does not hold restore points"):
        rem.execute(params, c)
    assert changes(api) == []


# delete_restore_point_collection
def test_delete_restore_point_collection(api: FakeBackupApi) -> None:
    c = ctx(api)
    rem = REMEDIATIONS["delete_restore_point_collection"]
    assert rem.plan(rem.default_params(c), c).blocked is not None
    api.groups[VM.subscription_id] = ["AzureBackupRG_westeurope_1"]
    api.add_collection(RestorePointCollection(VM.subscription_id, "rg-app", "small", VM.id, 2))
    big = api.add_collection(
        RestorePointCollection(VM.subscription_id, "AzureBackupRG_westeurope_1", "big", VM.id, 16)
    )
    foreign = RestorePointCollection(VM.subscription_id, "rg-app", "db", "/subscriptions/x/db", 9)
    api.add_collection(foreign)
    params = rem.default_params(c)
    plan = rem.plan(params, c)
    assert plan.blocked is None
    assert plan.operations[0].resource_id == big.id
    assert "16 restore points" in plan.operations[0].what
    api.fail(
        "delete_restore_point_collection", AzureConflict("locked", status=409, code="ScopeLocked")
    )
    with pytest.raises(AzureConflict):
        rem.execute(params, c)
    rem.execute(params, c)
    assert changes(api) == ["delete_restore_point_collection"] * 2
    theirs = rem.params_model.model_validate({"resource_group": "rg-app", "collection_name": "db"})
    assert "another VM" in (rem.plan(theirs, c).blocked or "")


# resume_protection
def test_resume_protection(api: FakeBackupApi) -> None:
    c = ctx(api, protection_state="ProtectionStopped")
    rem = REMEDIATIONS["resume_protection"]
    params = rem.default_params(c)
    assert params.model_dump() == {"policy_id": f"{VAULT.id}/backupPolicies/DefaultPolicy"}
    plan = rem.plan(params, c)
    assert plan.blocked is None
    assert plan.operations[0].verb == "PUT"
    rem.execute(params, c)
    assert api.items[VAULT.id][0].protection_state == "Protected"
    with pytest.raises(NotAllowed, match="nothing to resume"):
        rem.execute(params, c)
    assert changes(api) == ["resume_protection"]


@pytest.mark.parametrize(
    "policy",
    [
        "",
        "/subscriptions/other/resourceGroups/r/providers/Microsoft.RecoveryServices/vaults/v"
        "/backupPolicies/P",
        f"{VAULT.id}/backupPolicies/",
        f"{VAULT.id}/backupPolicies/a/b",
        # A prefix check lets these through; read segment by segment, they are refused.
        f"{VAULT.id}/backupPolicies/..",
        f"{VAULT.id}/backupPolicies/../../otherVault/backupPolicies/P",
        f"{VAULT.id}/backupPolicies/%2F..%2F..%2Fvaults%2Fother",
        f"{VAULT.id}/backupPolicies/P%2Fx",
        f"{VAULT.id}/backupPolicies/.",
        f"{VAULT.id}//backupPolicies/P",
        f"{VAULT.id}/backupPolicies/P/",
        f"{VAULT.id}/backupPolicies/P\\..",
        f"{VAULT.id}-evil/backupPolicies/P",
        "x" + f"{VAULT.id}/backupPolicies/P",
    ],
)
def test_resume_protection_needs_a_policy_of_the_vault(api: FakeBackupApi, policy: str) -> None:
    c = ctx(api, protection_state="BackupsSuspended")
    rem = REMEDIATIONS["resume_protection"]
    params: Params = rem.params_model.model_validate({"policy_id": policy})
    assert rem.plan(params, c).blocked is not None
    with pytest.raises(NotAllowed):
        rem.execute(params, c)
    assert changes(api) == []


def test_resume_protection_accepts_the_vaults_policy_in_any_case(api: FakeBackupApi) -> None:
    c = ctx(api, protection_state="ProtectionStopped")
    rem = REMEDIATIONS["resume_protection"]
    policy = f"{VAULT.id.upper()}/BACKUPPOLICIES/Weekly-1"
    params: Params = rem.params_model.model_validate({"policy_id": policy})
    assert rem.plan(params, c).blocked is None


def test_plans_are_stable_for_the_approval_hash(api: FakeBackupApi) -> None:
    c = ctx(api)
    api.add_job(
        Job(VAULT, "run-1", VM.name, "Backup", "InProgress", NOW - timedelta(hours=1), None)
    )
    rem = REMEDIATIONS["cancel_job"]
    params = rem.default_params(c)
    assert rem.plan(params, c).text() == rem.plan(params, c).text()
