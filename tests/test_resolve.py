"""Which protected VM a paste is about, through the configured vaults only, and the pick list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actions.errors import AzureNotFound
from actions.resolve import Resolver, latest_failed_job
from actions.resources import Job, ProtectedVm, VaultRef, VmRef
from tests.fakes.backup_api import VAULT, VM, FakeBackupApi, protected_vm

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
VAULT2 = VaultRef("sub-1", "rg-backup", "vault-2")
ELSEWHERE = VaultRef("sub-9", "rg", "not-configured")
DB = VmRef("sub-1", "rg-data", "db-01")
JOB = "0b5c8a2e-1c1d-4a5e-9f3b-2a1b3c4d5e6f"
RP_LIMIT = "The Restore Point collection max limit has reached."


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def api() -> FakeBackupApi:
    fake = FakeBackupApi()
    fake.add_item(protected_vm())
    fake.add_item(protected_vm(DB, VAULT2))
    fake.add_item(protected_vm(VmRef("sub-9", "rg", "web-01"), ELSEWHERE))
    return fake


def names(items: list[ProtectedVm]) -> list[str]:
    return [i.friendly_name for i in items]


def test_vm_resource_id(api: FakeBackupApi) -> None:
    r = Resolver(api, [VAULT, VAULT2])
    paste = f"Backup failed for '{DB.id.upper()}': snapshot timeout"
    assert names(r.resolve(paste)) == ["db-01"]


def test_vm_names_as_words_only(api: FakeBackupApi) -> None:
    r = Resolver(api, [VAULT, VAULT2])
    assert names(r.resolve("VM web-01 and DB-01 failed.")) == ["web-01", "db-01"]
    assert r.resolve("web-01a and xdb-01 and web-01-old") == []


def test_vault_id_narrows_the_names(api: FakeBackupApi) -> None:
    api.add_item(protected_vm(VmRef("sub-1", "rg-data", "web-01"), VAULT2))
    r = Resolver(api, [VAULT, VAULT2])
    assert len(r.resolve("web-01 failed")) == 2
    (only,) = r.resolve(f"web-01 failed in {VAULT2.id}")
    assert only.vault == VAULT2


def test_unconfigured_vaults_are_never_read(api: FakeBackupApi) -> None:
    r = Resolver(api, [VAULT2])
    assert r.resolve(f"web-01 in {ELSEWHERE.id}") == []
    assert all(args[0] != ELSEWHERE for _, args in api.calls)


def test_job_ids(api: FakeBackupApi) -> None:
    api.add_job(Job(VAULT2, JOB, "db-01", "Backup", "Failed", NOW, NOW))
    r = Resolver(api, [VAULT, VAULT2])
    assert names(r.resolve(f"see {VAULT2.id}/backupJobs/{JOB}")) == ["db-01"]
    assert names(r.resolve(f"Job ID: {JOB.upper()}")) == ["db-01"]
    assert r.resolve("correlation 11111111-2222-3333-4444-555555555555") == []


def test_cache_is_per_vault_and_expires(api: FakeBackupApi) -> None:
    clock = Clock()
    r = Resolver(api, [VAULT, VAULT2], ttl=60, clock=clock)
    r.resolve("web-01")
    r.resolve("db-01")
    assert api.names().count("list_protected_vms") == 2
    clock.t = 61
    r.resolve("web-01")
    assert api.names().count("list_protected_vms") == 4


def failed(vault: VaultRef, name: str, vm: str, message: str, hours: int) -> Job:
    start = NOW - timedelta(hours=hours)
    return Job(vault, name, vm, "Backup", "Failed", start, start, 1, "", message)


def test_latest_failed_job_reads_details(api: FakeBackupApi) -> None:
    api.add_job(failed(VAULT, "old", "web-01", "old", 30))
    api.add_job(failed(VAULT, "new", "web-01", RP_LIMIT, 2))
    item = api.items[VAULT.id][0]
    job = latest_failed_job(api, item, now=NOW)
    assert job is not None
    assert job.name == "new"
    assert api.calls[-1] == ("get_job", (VAULT, "new"))
    assert latest_failed_job(api, api.items[VAULT2.id][0], now=NOW) is None


def test_pick_list_troubled_first_and_narrowed(api: FakeBackupApi) -> None:
    api.add_item(
        protected_vm(VmRef("sub-1", "rg-app", "app-02"), VAULT, last_backup_status="Unhealthy")
    )
    api.add_item(
        protected_vm(VmRef("sub-1", "rg-app", "app-03"), VAULT, health_status="ActionRequired")
    )
    r = Resolver(api, [VAULT, VAULT2])
    assert names(r.pick_list()) == ["app-02", "app-03", "db-01", "web-01"]
    api.add_job(failed(VAULT, "j1", "app-02", "Could not communicate with the VM agent", 1))
    api.add_job(failed(VAULT2, "j2", "db-01", RP_LIMIT, 1))
    api.add_job(failed(VAULT, "j3", "web-01", RP_LIMIT, 3))
    picked = r.pick_list(matched_code="usererrorrpcollectionlimitreached", now=NOW)
    assert names(picked) == ["db-01", "web-01"]


def test_pick_list_falls_back_to_all_when_none_fits(api: FakeBackupApi) -> None:
    r = Resolver(api, [VAULT, VAULT2])
    assert names(r.pick_list(matched_code="UserErrorRpCollectionLimitReached", now=NOW)) == [
        "db-01",
        "web-01",
    ]


def test_resolve_survives_unreadable_job_ids(api: FakeBackupApi) -> None:
    api.fail("get_job", AzureNotFound("no", status=404), times=2)
    r = Resolver(api, [VAULT, VAULT2])
    assert r.resolve(f"job {JOB}") == []
    assert names(r.resolve(f"job {JOB} on {VM.name}")) == ["web-01"]
