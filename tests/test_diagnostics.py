"""Diagnostics over the in-memory BackupApi: what they report, which remediations they suggest."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from actions.base import Context, Finding, Report
from actions.diagnostics import DIAGNOSTICS
from actions.diagnostics.job_details import JobDetails
from actions.errors import AzureForbidden, NotAllowed
from actions.names import DIAGNOSTICS as NAMES
from actions.resources import (
    Extension,
    Job,
    JobTask,
    Lock,
    RestorePointCollection,
    VmStatus,
)
from tests.fakes.backup_api import VAULT, VM, FakeBackupApi, protected_vm

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
RP_LIMIT_MESSAGE = "The Restore Point collection max limit has reached."


@pytest.fixture
def api() -> FakeBackupApi:
    return FakeBackupApi()


def run(name: str, api: FakeBackupApi) -> Report:
    item = api.items[VAULT.id][0] if api.items[VAULT.id] else api.add_item(protected_vm())
    return DIAGNOSTICS[name].run(Context(item=item, api=api, now=NOW))


def finding(report: Report, label: str) -> tuple[str, bool | None]:
    found = [f for f in report.findings if f.label == label]
    assert found, f"no finding {label!r} in {[f.label for f in report.findings]}"
    return found[0].value, found[0].ok


def test_registry_holds_every_diagnostic_name() -> None:
    assert sorted(DIAGNOSTICS) == sorted(NAMES)
    assert all(d.name == n for n, d in DIAGNOSTICS.items())


def status(*extensions: Extension, agent: str = "Ready", power: str = "VM running") -> VmStatus:
    return VmStatus(VM, power, "Succeeded", "2.7.41491.1102", agent, "", extensions)


def test_vm_agent_status_flags_failed_snapshot_extension(api: FakeBackupApi) -> None:
    ext = Extension("VMSnapshot", "VMSnapshot", "1.0.9", "Provisioning failed", "COM+ error")
    api.set_status(status(ext, agent="Not Ready"))
    report = run("vm_agent_status", api)
    assert finding(report, "Extension VMSnapshot") == (
        "Provisioning failed (version 1.0.9): COM+ error",
        False,
    )
    assert finding(report, "Guest agent") == ("Not Ready", False)
    assert finding(report, "Power state") == ("VM running", True)
    assert report.suggestions == ("remove_snapshot_extension",)
    assert report.data["failed_extensions"] == ["VMSnapshot"]


def test_vm_agent_status_healthy_suggests_nothing(api: FakeBackupApi) -> None:
    other = Extension("MDE", "MDE.Windows", "1.0", "Provisioning failed")
    api.set_status(
        status(Extension("VMSnapshot", "VMSnapshot", "1.0", "Provisioning succeeded"), other)
    )
    report = run("vm_agent_status", api)
    assert report.suggestions == ()
    assert finding(report, "Extension VMSnapshot")[1] is True
    assert "Extension MDE" not in [f.label for f in report.findings]


def test_vm_agent_status_propagates_azure_errors(api: FakeBackupApi) -> None:
    api.set_status(status())
    api.fail("get_vm_status", AzureForbidden("no role", status=403))
    with pytest.raises(AzureForbidden):
        run("vm_agent_status", api)


def failed_job(**changes: Any) -> Job:
    base = Job(
        VAULT,
        "11111111-2222-3333-4444-555555555555",
        VM.name,
        "Backup",
        "Failed",
        NOW - timedelta(hours=3),
        NOW - timedelta(hours=2),
        400001,
        "Restore point collection limit",
        RP_LIMIT_MESSAGE,
        ("Delete old restore points",),
        (JobTask("Take Snapshot", "Failed"), JobTask("Transfer data to vault", "Cancelled")),
    )
    return dataclasses.replace(base, **changes)


def test_job_details_reports_latest_failed_job_and_agreement(api: FakeBackupApi) -> None:
    api.add_item(protected_vm())
    api.add_job(failed_job(name="old", start_time=NOW - timedelta(days=2), error_message="x"))
    api.add_job(failed_job())
    api.add_job(failed_job(name="other-vm", entity="db-01", start_time=NOW - timedelta(hours=1)))
    item = api.items[VAULT.id][0]
    ctx = Context(item=item, api=api, now=NOW)
    report = JobDetails().run(ctx, matched_code="UserErrorRpCollectionLimitReached")
    assert report.data["job"] == "11111111-2222-3333-4444-555555555555"
    assert report.data["agrees"] is True
    assert finding(report, "Message") == (RP_LIMIT_MESSAGE, None)
    assert finding(report, "Task Take Snapshot") == ("Failed", False)
    assert finding(report, "Recommendation")[0] == "Delete old restore points"
    assert "delete_restore_point_collection" in report.suggestions
    differs = JobDetails().run(ctx, matched_code="UserErrorGuestAgentStatusUnavailable")
    assert differs.data["agrees"] is False
    assert finding(differs, "Pasted error")[1] is False


def test_job_details_without_failures(api: FakeBackupApi) -> None:
    api.add_job(failed_job(start_time=NOW - timedelta(days=30)))
    report = run("job_details", api)
    assert report.findings == (Finding("Failed jobs", "none in the last 7 days", True),)
    assert report.suggestions == ()


def test_protection_status_stopped_suggests_resume(api: FakeBackupApi) -> None:
    api.add_item(protected_vm(protection_state="ProtectionStopped", health_status="ActionRequired"))
    report = run("protection_status", api)
    assert finding(report, "Protection state") == ("ProtectionStopped", False)
    assert report.suggestions == ("resume_protection",)


def test_protection_status_running_job_suggests_cancel(api: FakeBackupApi) -> None:
    api.add_item(protected_vm(last_backup_status="Unhealthy"))
    api.add_job(failed_job(name="run-1", status="InProgress"))
    report = run("protection_status", api)
    assert report.suggestions == ("cancel_job",)
    assert report.data["running_job"] == "run-1"
    assert finding(report, "Last backup")[1] is False


def test_protection_status_of_an_item_no_longer_protected(api: FakeBackupApi) -> None:
    item = protected_vm()
    with pytest.raises(NotAllowed, match="no longer protected"):
        DIAGNOSTICS["protection_status"].run(Context(item=item, api=api, now=NOW))


def rpc(name: str, rg: str, count: int, source: str = VM.id) -> RestorePointCollection:
    return RestorePointCollection(VM.subscription_id, rg, name, source, count)


def test_restore_points_counts_this_vms_collections_only(api: FakeBackupApi) -> None:
    api.groups[VM.subscription_id] = ["AzureBackupRG_westeurope_1", "rg-other"]
    api.add_collection(rpc("AzureBackup_web-01_1", "AzureBackupRG_westeurope_1", 12))
    api.add_collection(rpc("AzureBackup_web-01_2", "rg-app", 6))
    api.add_collection(rpc("AzureBackup_db_1", "AzureBackupRG_westeurope_1", 17, "/x/db"))
    report = run("restore_points", api)
    assert report.data["total"] == 18
    assert finding(report, "Total") == ("18 of at most 18", False)
    assert report.suggestions == ("delete_restore_point_collection",)
    assert ("list_restore_point_collections", (VM.subscription_id, "rg-other")) not in api.calls


def test_restore_points_below_limit(api: FakeBackupApi) -> None:
    api.add_collection(rpc("AzureBackup_web-01_2", "rg-app", 3))
    report = run("restore_points", api)
    assert finding(report, "Total") == ("3 of at most 18", True)
    assert report.suggestions == ()


def test_locks_flags_restore_point_group_lock(api: FakeBackupApi) -> None:
    api.groups[VM.subscription_id] = ["AzureBackupRG_westeurope_1"]
    api.add_collection(rpc("AzureBackup_web-01_1", "AzureBackupRG_westeurope_1", 4))
    api.add_lock(
        Lock(VM.subscription_id, "AzureBackupRG_westeurope_1", "keep", "CanNotDelete", "ops")
    )
    api.add_lock(Lock(VM.subscription_id, "rg-app", "nodelete", "CanNotDelete"))
    report = run("locks", api)
    assert finding(report, "AzureBackupRG_westeurope_1 / keep") == ("CanNotDelete: ops", False)
    assert finding(report, "rg-app / nodelete") == ("CanNotDelete", None)
    assert report.suggestions == ("remove_rg_lock",)


def test_a_lock_on_a_group_without_the_vms_restore_points_is_not_offered(
    api: FakeBackupApi,
) -> None:
    api.groups[VM.subscription_id] = ["AzureBackupRG_westeurope_1", "AzureBackupRG_westeurope_2"]
    api.add_collection(rpc("AzureBackup_web-01_1", "AzureBackupRG_westeurope_1", 4))
    api.add_lock(Lock(VM.subscription_id, "AzureBackupRG_westeurope_2", "theirs", "CanNotDelete"))
    api.add_lock(Lock(VM.subscription_id, "rg-app", "prod", "CanNotDelete", "production"))
    report = run("locks", api)
    assert finding(report, "AzureBackupRG_westeurope_2 / theirs") == ("CanNotDelete", None)
    assert finding(report, "rg-app / prod") == ("CanNotDelete: production", None)
    assert report.suggestions == ()


def test_locks_none(api: FakeBackupApi) -> None:
    report = run("locks", api)
    assert finding(report, "Locks")[1] is True
    assert report.suggestions == ()
