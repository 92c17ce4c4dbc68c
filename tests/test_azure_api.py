"""AzureBackupApi with the real Azure SDK clients over HTTPS against the fake Resource Manager,
with tokens from the fake managed-identity endpoint (real DefaultAzureCredential, via environment).
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from actions.azure import AzureConfig
from actions.azure_backup import AzureBackupApi
from actions.errors import (
    AzureConflict,
    AzureError,
    AzureForbidden,
    AzureNotFound,
    AzureThrottled,
    AzureTimeout,
    AzureUnavailable,
)
from actions.resources import Extension, Lock, ProtectedVm, RestorePointCollection, VaultRef, VmRef
from tests.fakes.arm import FakeArm
from tests.fakes.msi import FakeMsi

SUB = "11111111-2222-3333-4444-555555555555"
BACKUP_RG = "AzureBackupRG_eastasia_1"


@dataclass
class World:
    arm: FakeArm
    vault: VaultRef
    web: VmRef
    db: VmRef
    failed_job: str
    running_job: str
    rpc: str


@pytest.fixture
def msi() -> Iterator[FakeMsi]:
    with FakeMsi() as fake:
        yield fake


@pytest.fixture
def world() -> Iterator[World]:
    with FakeArm(page_size=2) as arm:
        vault_id = arm.add_vault(SUB, "rg-backup", "vault-prod")
        web = arm.add_vm(SUB, "rg-app", "web01", snapshot_code="ProvisioningState/failed/-40")
        db = arm.add_vm(SUB, "rg-app", "db01", linux=True, power="deallocated")
        app = arm.add_vm(SUB, "rg-app", "app01", agent_status="Not Ready")
        arm.protect(vault_id, web, health="ActionRequired", last_status="Unhealthy")
        arm.protect(vault_id, db, state="ProtectionStopped", policy_id="")
        arm.protect(vault_id, app)
        now = datetime.now(UTC)
        failed = arm.add_job(
            vault_id, "web01", status="Failed", start=now - timedelta(hours=3),
            error_code=400001, error_title="Snapshot timed out",
            error_string="UserErrorVmProvisioningStateFailed",
            recommendations=("Check the VM agent",),
            tasks=(("Take Snapshot", "Failed"), ("Transfer data to vault", "Cancelled")),
        )  # fmt: skip
        running = arm.add_job(vault_id, "db01", status="InProgress", start=now - timedelta(hours=1))
        arm.add_job(vault_id, "app01", status="Completed", start=now - timedelta(days=40))
        arm.add_resource_group(SUB, "azurebackuprg_eastasia_2")
        rpc = arm.add_restore_point_collection(
            SUB, BACKUP_RG, "AzureBackup_web01_123", source_vm_id=web, points=18
        )
        arm.add_lock(SUB, "rg-app", "keep-app", level="ReadOnly", notes="change freeze")
        yield World(
            arm, VaultRef.parse(vault_id), VmRef.parse(web), VmRef.parse(db), failed, running, rpc
        )


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, msi: FakeMsi, world: World) -> None:
    for name in (
        "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME",
        "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT",
        "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_ARM_ENDPOINT",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", msi.endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", msi.secret)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", world.arm.ca_bundle)


def config(arm: FakeArm, **overrides: Any) -> AzureConfig:
    """Fast retries and polls; everything else as in production."""
    values: dict[str, Any] = {
        "arm_endpoint": arm.url,
        "polling_interval": 0,
        "connection_timeout": 2,
        "read_timeout": 2,
        "retry_total": 3,
        "retry_backoff_factor": 0.01,
        "retry_backoff_max": 0.05,
        "operation_timeout": 10,
        "max_poll_delay": 0.05,
    }
    values.update(overrides)
    return AzureConfig(**values)


@pytest.fixture
def api(env: None, world: World) -> Iterator[AzureBackupApi]:
    with AzureBackupApi(config(world.arm)) as backup:
        yield backup


def item_of(api: AzureBackupApi, world: World, name: str) -> ProtectedVm:
    return next(i for i in api.list_protected_vms(world.vault) if i.vm.name == name)


# Reads


def test_protected_vms_follow_pages_and_read_vm_items_as_mappings(
    api: AzureBackupApi, world: World
) -> None:
    items = {i.vm.name: i for i in api.list_protected_vms(world.vault)}
    assert sorted(items) == ["app01", "db01", "web01"]
    web = items["web01"]
    assert (web.protection_state, web.health_status, web.last_backup_status) == (
        "Protected", "ActionRequired", "Unhealthy",
    )  # fmt: skip
    assert web.container == "IaasVMContainer;iaasvmcontainerv2;rg-app;web01"
    assert web.item == "VM;iaasvmcontainerv2;rg-app;web01"
    assert web.vm.same(world.web)
    assert web.last_backup_time is not None
    assert web.policy_id.endswith("/backupPolicies/DefaultPolicy")
    assert items["db01"].protection_state == "ProtectionStopped"
    assert world.arm.count("GET", "/backupProtectedItems") == 2  # two pages of two
    sent = world.arm.calls("GET", "/backupProtectedItems")[0].query["$filter"]
    assert sent == "backupManagementType eq 'AzureIaasVM' and itemType eq 'VM'"


def test_jobs_use_the_filter_syntax_and_come_newest_first(
    api: AzureBackupApi, world: World
) -> None:
    since = datetime.now(UTC) - timedelta(days=30)
    jobs = api.list_jobs(world.vault, since=since)
    assert [j.name for j in jobs] == [world.running_job, world.failed_job]
    failed = api.list_jobs(world.vault, since=since, status="Failed")
    assert [j.name for j in failed] == [world.failed_job]
    flt = world.arm.calls("GET", "/backupJobs")[-1].query["$filter"]
    assert flt.startswith("backupManagementType eq 'AzureIaasVM' and status eq 'Failed' and ")
    assert f"startTime eq '{since.strftime('%Y-%m-%d %I:%M:%S %p')}'" in flt


def test_job_details_carry_error_recommendations_and_tasks(
    api: AzureBackupApi, world: World
) -> None:
    job = api.get_job(world.vault, world.failed_job)
    assert (job.status, job.operation, job.error_code) == ("Failed", "Backup", 400001)
    assert job.error_message == "UserErrorVmProvisioningStateFailed"
    assert job.error_title == "Snapshot timed out"
    assert job.recommendations == ("Check the VM agent",)
    assert next((t.name, t.status) for t in job.tasks) == ("Take Snapshot", "Failed")
    assert job.start_time is not None
    assert job.end_time is not None
    assert api.get_job_status(world.vault, world.running_job) == "InProgress"


def test_vm_status_reads_agent_power_and_snapshot_extension(
    api: AzureBackupApi, world: World
) -> None:
    status = api.get_vm_status(world.web)
    assert (status.power_state, status.provisioning_state) == ("running", "succeeded")
    assert (status.agent_status, status.agent_version) == ("Ready", "2.7.41491.1102")
    [ext] = status.extensions
    assert (ext.name, ext.type, ext.state) == (
        "VMSnapshot",
        "VMSnapshot",
        "ProvisioningState/failed/-40",
    )
    assert ext.is_backup_snapshot
    assert ext.failed
    db = api.get_vm_status(world.db)
    assert db.power_state == "deallocated"
    assert db.extensions[0].name == "VMSnapshotLinux"
    assert not db.extensions[0].failed


def test_restore_points_groups_and_locks(api: AzureBackupApi, world: World) -> None:
    [rpc] = api.list_restore_point_collections(SUB, BACKUP_RG)
    assert (rpc.name, rpc.restore_points) == ("AzureBackup_web01_123", 18)
    assert VmRef.parse(rpc.source_vm_id).same(world.web)
    assert (
        world.arm.calls("GET", "/restorePointCollections/")[0].query["$expand"] == "restorePoints"
    )
    assert api.list_resource_groups(SUB, prefix="AzureBackupRG_") == [
        BACKUP_RG, "azurebackuprg_eastasia_2",
    ]  # fmt: skip
    assert api.list_locks(SUB, "rg-app") == [
        Lock(SUB, "rg-app", "keep-app", "ReadOnly", "change freeze")
    ]
    assert api.list_locks(SUB, BACKUP_RG) == []


# Changes


def test_trigger_backup_follows_the_operation_to_its_job(api: AzureBackupApi, world: World) -> None:
    world.arm.operation_polls = 2
    web = item_of(api, world, "web01")
    until = datetime(2031, 2, 1, 8, 30, tzinfo=UTC)
    outcome = api.trigger_backup(web, retain_until=until)
    assert outcome.ok
    assert outcome.job_id
    [post] = world.arm.calls("POST", "/backup")
    assert post.body["properties"] == {
        "objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": "2031-02-01T08:30:00Z",
    }  # fmt: skip
    assert outcome.correlation_id == post.correlation_id
    assert world.arm.count("GET", "/backupOperations/") == 3  # InProgress twice, then Succeeded
    job = world.arm.job(world.vault.id, outcome.job_id)
    assert job["properties"]["status"] == "InProgress"
    assert job["properties"]["isUserTriggered"]
    assert outcome.portal_url == f"https://portal.azure.com/#@/resource{job['id']}"
    assert api.get_job_status(world.vault, outcome.job_id) == "InProgress"


def test_cancel_job_moves_it_to_cancelled(api: AzureBackupApi, world: World) -> None:
    outcome = api.cancel_job(world.vault, world.running_job)
    assert outcome.ok
    assert outcome.job_id == world.running_job
    assert outcome.correlation_id == world.arm.calls("POST", "/cancel")[0].correlation_id
    assert api.get_job_status(world.vault, world.running_job) == "Cancelled"


def test_delete_extension_lock_and_collection(api: AzureBackupApi, world: World) -> None:
    [lock] = api.list_locks(SUB, "rg-app")
    with pytest.raises(AzureConflict) as locked:  # the app RG's lock blocks the deletion
        api.delete_extension(world.web, api.get_vm_status(world.web).extensions[0])
    assert locked.value.code == "ScopeLocked"
    assert locked.value.status == 409
    assert (
        locked.value.correlation_id == world.arm.calls("DELETE", "/extensions/")[-1].correlation_id
    )
    removed = api.delete_lock(lock)
    assert removed.ok
    assert removed.correlation_id
    assert api.list_locks(SUB, "rg-app") == []
    outcome = api.delete_extension(world.web, api.get_vm_status(world.web).extensions[0])
    assert outcome.ok
    assert outcome.details["finished"] == "true"
    assert api.get_vm_status(world.web).extensions == ()
    assert world.arm.get(world.web.id + "/extensions/VMSnapshot") is None
    [rpc] = api.list_restore_point_collections(SUB, BACKUP_RG)
    done = api.delete_restore_point_collection(rpc)
    assert done.ok
    assert (
        done.correlation_id
        == world.arm.calls("DELETE", "/restorePointCollections/")[0].correlation_id
    )
    assert api.list_restore_point_collections(SUB, BACKUP_RG) == []


def test_resume_protection_puts_the_policy(api: AzureBackupApi, world: World) -> None:
    db = item_of(api, world, "db01")
    policy = f"{world.vault.id}/backupPolicies/EnhancedPolicy"
    outcome = api.resume_protection(db, policy_id=policy)
    assert outcome.ok
    assert outcome.details["finished"] == "true"
    [put] = world.arm.calls("PUT", "/protectedItems/")
    assert put.body["properties"] == {
        "protectedItemType": "Microsoft.Compute/virtualMachines",
        "sourceResourceId": db.vm.id, "policyId": policy,
    }  # fmt: skip
    assert outcome.correlation_id == put.correlation_id
    again = item_of(api, world, "db01")
    assert (again.protection_state, again.policy_id) == ("Protected", policy)


# Failures, per operation

Call = Callable[[AzureBackupApi, World], object]


def _ext(world: World) -> Extension:
    return Extension("VMSnapshot", "VMSnapshot", "1.0", "ProvisioningState/failed/-40")


def _rpc(world: World) -> RestorePointCollection:
    return RestorePointCollection(SUB, BACKUP_RG, "AzureBackup_web01_123", world.web.id, 18)


def _item(world: World, name: str) -> ProtectedVm:
    rg = "rg-app"
    return ProtectedVm(
        world.vault, VmRef(SUB, rg, name), f"IaasVMContainer;iaasvmcontainerv2;{rg};{name}",
        f"VM;iaasvmcontainerv2;{rg};{name}", name, "Protected", "Passed", "Healthy", None, "",
    )  # fmt: skip


OPERATIONS: dict[str, tuple[str, str, Call]] = {
    "list_protected_vms": ("GET", "/backupProtectedItems",
        lambda a, w: a.list_protected_vms(w.vault)),
    "get_job": ("GET", "/backupJobs/", lambda a, w: a.get_job(w.vault, w.failed_job)),
    "get_vm_status": ("GET", "/instanceView", lambda a, w: a.get_vm_status(w.web)),
    "list_locks": ("GET", "/locks", lambda a, w: a.list_locks(SUB, "rg-app")),
    "list_resource_groups": ("GET", "/resourcegroups",
        lambda a, w: a.list_resource_groups(SUB, prefix="A")),
    "trigger_backup": ("POST", "/backup", lambda a, w: a.trigger_backup(
        _item(w, "web01"), retain_until=datetime.now(UTC) + timedelta(days=30))),
    "cancel_job": ("POST", "/cancel", lambda a, w: a.cancel_job(w.vault, w.running_job)),
    "delete_extension": ("DELETE", "/extensions/", lambda a, w: a.delete_extension(w.db, _ext(w))),
    "delete_lock": ("DELETE", "/locks/", lambda a, w: a.delete_lock(
        Lock(SUB, "rg-app", "keep-app", "ReadOnly"))),
    "delete_restore_point_collection": ("DELETE", "/restorePointCollections/",
        lambda a, w: a.delete_restore_point_collection(_rpc(w))),
    "resume_protection": ("PUT", "/protectedItems/", lambda a, w: a.resume_protection(
        _item(w, "db01"), policy_id=f"{w.vault.id}/backupPolicies/DefaultPolicy")),
}  # fmt: skip
ALL = sorted(OPERATIONS)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (403, "AuthorizationFailed", AzureForbidden),
        (404, "ResourceNotFound", AzureNotFound),
        (409, "ScopeLocked", AzureConflict),
    ],
)
def test_http_errors_map_to_ours_with_code_and_correlation_id(
    api: AzureBackupApi, world: World, name: str, status: int, code: str, error: type[AzureError]
) -> None:
    method, path, call = OPERATIONS[name]
    world.arm.fail(method, path, status, code=code)
    with pytest.raises(error) as raised:
        call(api, world)
    failed = [r for r in world.arm.calls(method, path) if r.status == status]
    assert len(failed) == 1  # 4xx are not retried
    assert (raised.value.status, raised.value.code) == (status, code)
    assert raised.value.correlation_id == failed[0].correlation_id
    assert isinstance(raised.value.__cause__, Exception)  # raised from the SDK's error


@pytest.mark.parametrize("name", ALL)
def test_a_429_with_retry_after_is_retried_then_succeeds(
    api: AzureBackupApi, world: World, name: str
) -> None:
    method, path, call = OPERATIONS[name]
    world.arm.fail(method, path, 429, retry_after="0.05")
    call(api, world)
    statuses = [r.status for r in world.arm.calls(method, path)]
    assert statuses[:2] == [429, statuses[1]]
    assert statuses[1] < 400


@pytest.mark.parametrize("name", ALL)
def test_a_persistent_429_is_azure_throttled(api: AzureBackupApi, world: World, name: str) -> None:
    method, path, call = OPERATIONS[name]
    world.arm.fail(method, path, 429, retry_after="0.01", times=None)
    with pytest.raises(AzureThrottled) as raised:
        call(api, world)
    calls = world.arm.calls(method, path)
    assert len(calls) == 4  # the first try and retry_total=3 retries
    assert raised.value.status == 429
    assert raised.value.correlation_id == calls[-1].correlation_id


@pytest.mark.parametrize("name", ALL)
def test_a_persistent_500_is_retried_then_azure_unavailable(
    api: AzureBackupApi, world: World, name: str
) -> None:
    method, path, call = OPERATIONS[name]
    world.arm.fail(method, path, 500, times=None)
    with pytest.raises(AzureUnavailable) as raised:
        call(api, world)
    calls = world.arm.calls(method, path)
    assert len(calls) == 4
    assert raised.value.code == "InternalServerError"
    assert raised.value.correlation_id == calls[-1].correlation_id


@pytest.mark.parametrize("name", ALL)
def test_no_answer_in_time_is_azure_timeout(env: None, world: World, name: str) -> None:
    method, path, call = OPERATIONS[name]
    world.arm.fail(method, path, None, delay=0.6, times=None)
    slow = config(world.arm, read_timeout=0.2, retry_total=1)
    with AzureBackupApi(slow) as api, pytest.raises(AzureTimeout) as raised:
        call(api, world)
    assert raised.value.status is None
    sent = world.arm.calls(method, path)[-1].headers["x-ms-client-request-id"]
    assert raised.value.correlation_id == sent  # our client request id: Azure can trace it


# Clouds and endpoints


@pytest.mark.parametrize(
    ("cloud", "resource"),
    [
        ("AzureCloud", "https://management.azure.com"),
        ("AzureUSGovernment", "https://management.core.usgovcloudapi.net"),
        ("AzureChinaCloud", "https://management.chinacloudapi.cn"),
    ],
)
def test_the_token_scope_follows_the_cloud_even_with_an_endpoint_override(
    env: None, msi: FakeMsi, world: World, cloud: str, resource: str
) -> None:
    with AzureBackupApi(config(world.arm, cloud=cloud, arm_endpoint=world.arm.url + "/")) as api:
        api.get_job(world.vault, world.failed_job)
        api.list_locks(SUB, "rg-app")
    assert {r.rstrip("/") for r in msi.resources} == {resource}
    assert set(world.arm.tokens) == {FakeMsi.token_for(resource)}
    [call] = world.arm.calls("GET", "/backupJobs/")
    assert call.headers["host"] == world.arm.url.removeprefix("https://")


def test_portal_links_follow_the_cloud() -> None:
    assert (
        AzureConfig(cloud="AzureUSGovernment").portal_link("/x")
        == "https://portal.azure.us/#@/resource/x"
    )
    with pytest.raises(ValueError, match="AzureGermanCloud"):
        AzureConfig(cloud="AzureGermanCloud")


@pytest.fixture(autouse=True)
def _collect_sdk_garbage() -> Iterator[None]:
    """SDK errors keep their HTTP responses in reference cycles: collect them after each test,
    so their sockets close here, quietly (the SDK's retries leave them to the collector), and not
    as a stray ResourceWarning in some later test."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
