"""Resource Graph with the real ``ResourceGraphClient`` over HTTPS against the fake Resource
Graph, tokens from the fake managed-identity endpoint (real DefaultAzureCredential): the queries,
paging, the quota, 429s, scopes, the job rows as JobOutcome, the poller and the inventory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from actions.azure import AzureConfig
from actions.azure_graph import THROTTLE_RETRIES, ResourceGraph
from actions.errors import AzureError, AzureThrottled
from actions.graph import (
    PROTECTED_ITEMS,
    QUERIES,
    Scopes,
    failed_jobs_query,
    succeeded_backups_queries,
)
from actions.inventory import GraphInventory
from actions.resolve import Resolver
from actions.resources import VaultRef, VmRef
from incidents.model import JobOutcome
from incidents.poller import Poller, build_poller
from tests.fakes.backup_api import FakeBackupApi
from tests.fakes.msi import FakeMsi
from tests.fakes.resource_graph import FakeResourceGraph, understood

SUB1 = "11111111-1111-1111-1111-111111111111"
SUB2 = "22222222-2222-2222-2222-222222222222"
SUB3 = "33333333-3333-3333-3333-333333333333"
NOW = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)


def NOW_() -> datetime:  # noqa: N802 (the poller's clock, stopped at NOW)
    return NOW


def vault(sub: str, name: str) -> str:
    return VaultRef(sub, "rg-backup", name).id


def vm(sub: str, name: str) -> str:
    return VmRef(sub, "rg-app", name).id


class Clock:
    """Virtual time shared by the client (its waits) and the fake (its quota window)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def graph_fake(clock: Clock) -> Iterator[FakeResourceGraph]:
    with FakeResourceGraph(quota=15, window=5.0, clock=clock) as fake:
        yield fake


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, graph_fake: FakeResourceGraph) -> Iterator[FakeMsi]:
    for name in (
        "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_USERNAME",
        "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT",
        "MSI_SECRET", "IMDS_ENDPOINT",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    with FakeMsi() as msi:
        monkeypatch.setenv("IDENTITY_ENDPOINT", msi.endpoint)
        monkeypatch.setenv("IDENTITY_HEADER", msi.secret)
        monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", graph_fake.ca_bundle)
        yield msi


def make_graph(fake: FakeResourceGraph, clock: Clock, **kw: Any) -> ResourceGraph:
    config = AzureConfig(connection_timeout=2, read_timeout=2, retry_total=1,
                         retry_backoff_factor=0.01, retry_backoff_max=0.05)  # fmt: skip
    return ResourceGraph(config, endpoint=fake.url, sleep=clock.sleep, clock=clock, **kw)


@pytest.fixture
def graph(env: FakeMsi, graph_fake: FakeResourceGraph, clock: Clock) -> Iterator[ResourceGraph]:
    with make_graph(graph_fake, clock, page_size=3) as client:
        yield client


# The contract between the code and the fake
def test_the_codes_queries_are_the_ones_the_fake_understands() -> None:
    since = NOW - timedelta(hours=1)
    assert understood(PROTECTED_ITEMS) == ("protected_items", {})
    assert understood(failed_jobs_query(since)) == (
        "failed_jobs",
        {"since": "2026-03-13T11:00:00Z"},
    )
    (resolving,) = succeeded_backups_queries(since, ["/Subscriptions/X/vault/it's"])
    name, params = understood(resolving) or ("", {})
    assert name == "succeeded_backups"
    assert params["items"] == "'/subscriptions/x/vault/it\\'s'"
    assert {q for q in QUERIES} == {"failed_jobs", "succeeded_backups", "protected_items"}
    assert understood(PROTECTED_ITEMS.replace("order by id asc", "order by id desc")) is None
    assert understood(failed_jobs_query(since) + "\n| take 5") is None


def test_an_unknown_query_is_a_mapped_error(graph: ResourceGraph) -> None:
    with pytest.raises(AzureError) as caught:
        list(graph.rows("Resources | take 1", Scopes((SUB1,))))
    assert caught.value.status == 400
    assert not isinstance(caught.value, AzureThrottled)


# Paging, quota, 429, scopes
def test_pages_follow_skip_tokens_with_the_same_query_and_scopes(
    graph: ResourceGraph, graph_fake: FakeResourceGraph, env: FakeMsi
) -> None:
    ids = {graph_fake.add_vm_item(vault(SUB1, "v1"), vm(SUB1, f"vm{i:02d}")) for i in range(8)}
    graph_fake.add_vm_item(vault(SUB3, "v3"), vm(SUB3, "elsewhere"))
    rows = list(graph.rows(PROTECTED_ITEMS, Scopes((SUB1,))))
    assert {r["id"] for r in rows} == ids
    assert len(graph_fake.requests) == 3  # 3 + 3 + 2 rows
    first, *rest = graph_fake.requests
    assert first.options == {"$top": 3, "resultFormat": "objectArray", "allowPartialScopes": False}
    assert all(r.options.get("$skipToken") for r in rest)
    assert {(r.query, tuple(r.subscriptions)) for r in graph_fake.requests} == {
        (PROTECTED_ITEMS, (SUB1,))
    }
    assert msi_resources(env) == {"https://management.azure.com"}


def msi_resources(msi: FakeMsi) -> set[str]:
    return {r.rstrip("/") for r in msi.resources}


def test_an_exhausted_quota_waits_for_its_reset_before_the_next_query(
    env: FakeMsi, clock: Clock
) -> None:
    with FakeResourceGraph(quota=2, window=5.0, clock=clock) as fake:
        for i in range(9):
            fake.add_vm_item(vault(SUB1, "v1"), vm(SUB1, f"vm{i}"))
        env_ca(fake)
        with make_graph(fake, clock, page_size=2) as graph:
            rows = list(graph.rows(PROTECTED_ITEMS, Scopes((SUB1,))))
        assert len(rows) == 9
        assert [r.status for r in fake.requests] == [200] * 5  # never throttled
        assert clock.sleeps == [5.0, 5.0]  # after pages 2 and 4, whose quota hit 0


def env_ca(fake: FakeResourceGraph) -> None:
    import os

    os.environ["REQUESTS_CA_BUNDLE"] = fake.ca_bundle  # monkeypatch restores it after the test


def test_429_waits_and_retries_then_gives_up(
    graph: ResourceGraph, graph_fake: FakeResourceGraph, clock: Clock
) -> None:
    graph_fake.add_vm_item(vault(SUB1, "v1"), vm(SUB1, "web01"))
    graph_fake.throttle(2)
    assert len(list(graph.rows(PROTECTED_ITEMS, Scopes((SUB1,))))) == 1
    assert [r.status for r in graph_fake.requests] == [429, 429, 200]
    assert len(clock.sleeps) == 2
    assert all(s > 0 for s in clock.sleeps)
    graph_fake.throttle(THROTTLE_RETRIES + 1)
    with pytest.raises(AzureThrottled) as caught:
        list(graph.rows(PROTECTED_ITEMS, Scopes((SUB1,))))
    assert caught.value.status == 429


def test_management_groups_and_subscription_batches(
    graph: ResourceGraph, graph_fake: FakeResourceGraph
) -> None:
    graph_fake.add_group("mg-prod", SUB1, SUB2)
    a = graph_fake.add_vm_item(vault(SUB1, "v1"), vm(SUB1, "a"))
    b = graph_fake.add_vm_item(vault(SUB2, "v2"), vm(SUB2, "b"))
    graph_fake.add_vm_item(vault(SUB3, "v3"), vm(SUB3, "c"))
    scopes = Scopes.parse(["mg:mg-prod", SUB1])  # a subscription inside the group: rows once
    assert sorted(r["id"] for r in graph.rows(PROTECTED_ITEMS, scopes)) == sorted([a, b])
    kinds = [(r.subscriptions, r.management_groups) for r in graph_fake.requests]
    assert kinds == [([SUB1], []), ([], ["mg-prod"])]
    many = Scopes(tuple(f"{i:08d}-0000-0000-0000-000000000000" for i in range(450)))
    assert [len(s) for s, _g in many.batches()] == [200, 200, 50]


def test_scopes_parse_refuses_what_is_neither() -> None:
    assert Scopes.parse([SUB1.upper(), "MG:Contoso-Root"]) == Scopes((SUB1,), ("Contoso-Root",))
    for bad in ("not-a-sub", "mg:", "mg:has space", "/subscriptions/" + SUB1):
        with pytest.raises(ValueError, match=r"subscription id or mg:|mg:<management"):
            Scopes.parse([bad])


# Job rows as JobOutcome, through the poller
def seed_jobs(fake: FakeResourceGraph) -> dict[str, str]:
    rsv, bv = (
        vault(SUB1, "rsv-prod"),
        vault(SUB1, "rsv-prod").replace(
            "Microsoft.RecoveryServices/vaults/rsv-prod",
            "Microsoft.DataProtection/backupVaults/bv-prod",
        ),
    )
    item = (
        f"{rsv}/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;"
        "rg-app;web01/protectedItems/VM;iaasvmcontainerv2;rg-app;web01"
    )
    hour = NOW - timedelta(hours=1)
    return {
        "vm": fake.add_rsv_job(rsv, "web01", start=hour, item_id=item, error_code=400043,
                               error_string="VM Agent unable to communicate with Azure Backup",
                               dynamic="UserErrorGuestAgentStatusUnavailable"),
        "sql": fake.add_rsv_job(rsv, "Clara_db", kind="sql", start=hour,
                                error_code="UserErrorParentFullBackupMissing",
                                error_string="First full backup is missing for this datasource."),
        "files": fake.add_rsv_job(rsv, "share01", kind="files", start=hour),
        "disk": fake.add_bv_job(bv, "disk-data-01", start=hour,
                                error_code="UserErrorDiskSnapshotLimitReached",
                                error_message="Disk snapshot limit reached."),
        "ok": fake.add_rsv_job(rsv, "web01", status="Completed", start=hour, item_id=item),
        "old": fake.add_rsv_job(rsv, "web01", start=NOW - timedelta(days=3)),
        "item": item,
    }  # fmt: skip


def test_failed_rows_of_each_workload_map_to_job_outcomes(
    graph: ResourceGraph, graph_fake: FakeResourceGraph
) -> None:
    ids = seed_jobs(graph_fake)
    got: list[JobOutcome] = []
    poller = Poller(
        graph, Scopes((SUB1,)), got.append, every=timedelta(minutes=10), now=lambda: NOW
    )
    assert poller.poll_once() == 4
    by_id = {o.job_id: o for o in got}
    assert set(by_id) == {ids[k].lower() for k in ("vm", "sql", "files", "disk")}
    vm_job, sql, files, disk = (by_id[ids[k].lower()] for k in ("vm", "sql", "files", "disk"))
    assert (vm_job.source, vm_job.succeeded, vm_job.item_name, vm_job.workload) == (
        "poll",
        False,
        "web01",
        "AzureIaasVM",
    )
    assert vm_job.error_codes == ("UserErrorGuestAgentStatusUnavailable", "400043")
    assert vm_job.error_message == "VM Agent unable to communicate with Azure Backup"
    assert vm_job.item_id == ids["item"]
    assert vm_job.vault_id == vault(SUB1, "rsv-prod").lower()
    assert vm_job.at == NOW - timedelta(hours=1)
    assert vm_job.operation == "Backup"
    assert (sql.workload, sql.error_codes) == ("SQLDataBase", ("UserErrorParentFullBackupMissing",))
    assert (files.workload, files.error_codes, files.item_name) == ("AzureStorage", (), "share01")
    assert (disk.workload, disk.item_name) == ("Microsoft.Compute/disks", "disk-data-01")
    assert disk.error_codes == ("UserErrorDiskSnapshotLimitReached",)
    assert disk.vault_id.endswith("/microsoft.dataprotection/backupvaults/bv-prod")
    assert "/backupinstances/" in disk.item_id.lower()


def test_succeeded_backups_of_open_items_are_handed_on_for_resolution(
    graph: ResourceGraph, graph_fake: FakeResourceGraph
) -> None:
    ids = seed_jobs(graph_fake)
    got: list[JobOutcome] = []
    open_items = [ids["item"].lower(), vault(SUB1, "rsv-prod").lower() + "/share01"]
    poller = Poller(graph, Scopes((SUB1,)), got.append, every=timedelta(minutes=10),
                    now=lambda: NOW, open_items=lambda: open_items)  # fmt: skip
    poller.poll_once()
    ok = [o for o in got if o.succeeded]
    assert [o.job_id for o in ok] == [ids["ok"].lower()]
    assert ok[0].incident_key.split("|")[0] == ids["item"].lower()


def test_the_window_starts_at_the_last_success_less_the_overlap() -> None:
    poller = Poller(Rows(), Scopes((SUB1,)), lambda _o: None, every=timedelta(minutes=10),
                    overlap=timedelta(minutes=5), now=lambda: NOW)  # fmt: skip
    assert poller.since(NOW) == NOW - timedelta(hours=24, minutes=5)
    poller.poll_once()
    assert poller.since(NOW + timedelta(minutes=10)) == NOW - timedelta(minutes=5)
    poller.last_success = NOW - timedelta(days=30)
    assert poller.since(NOW) == NOW - timedelta(days=14)  # Resource Graph keeps 14 days


class Rows:
    """A row source answering FAILED_JOBS with fixed rows and recording the queries."""

    def __init__(self, rows: list[dict[str, Any]] | None = None, fail: bool = False) -> None:
        self.queries: list[str] = []
        self.rows_, self.fail = rows or [], fail

    def rows(self, query: str, scopes: Scopes) -> Iterator[dict[str, Any]]:
        self.queries.append(query)
        if self.fail:
            raise AzureThrottled("query Resource Graph: HTTP 429", status=429)
        yield from self.rows_


def test_a_failing_sink_keeps_the_window_and_the_others_go_on() -> None:
    row = {"id": vault(SUB1, "v") + "/backupJobs/j1", "status": "Failed",
           "type": "microsoft.recoveryservices/vaults/backupjobs",
           "startTime": "2026-03-13T11:00:00.0000000Z", "entityFriendlyName": "a"}  # fmt: skip
    rows = [row, {**row, "id": row["id"][:-1] + "2"}]
    seen: list[str] = []

    def sink(outcome: JobOutcome) -> None:
        seen.append(outcome.job_id)
        if outcome.job_id.endswith("j1"):
            raise RuntimeError("store away")

    poller = Poller(Rows(rows), Scopes((SUB1,)), sink, every=timedelta(minutes=1), now=lambda: NOW)
    assert poller.poll_once() == 1
    assert len(seen) == 2
    assert poller.last_success is None


def test_polls_keep_their_pace_and_stop_cleanly() -> None:
    now = [NOW]
    waits: list[float] = []
    source = Rows(fail=True)  # an Azure error does not make the next poll come sooner

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        now[0] += timedelta(seconds=seconds)
        return len(waits) >= 3

    poller = Poller(source, Scopes((SUB1,)), lambda _o: None, every=timedelta(minutes=10),
                    now=lambda: now[0], wait=wait)  # fmt: skip
    poller.run()
    assert waits == [600.0, 600.0, 600.0]
    assert poller.failures == 3
    assert len(source.queries) == 3
    threaded = Poller(Rows(), Scopes((SUB1,)), lambda _o: None, every=timedelta(hours=1))
    closed: list[bool] = []
    threaded._on_stop = lambda: closed.append(True)
    threaded.start()
    threaded.stop(timeout=5)
    assert threaded._thread is not None
    assert not threaded._thread.is_alive()
    assert closed == [True]
    assert threaded.polls == 1


def test_build_poller_is_off_without_scopes_or_minutes() -> None:
    assert build_poller(Rows(), Scopes(), print, minutes=10) is None
    assert build_poller(Rows(), Scopes((SUB1,)), print, minutes=0) is None
    poller = build_poller(Rows(), Scopes((SUB1,)), print, minutes=7)
    assert poller is not None
    assert poller.every == timedelta(minutes=7)


# The inventory
def test_inventory_is_one_paged_query_bounded_by_the_allow_list(
    graph: ResourceGraph, graph_fake: FakeResourceGraph, clock: Clock
) -> None:
    allowed, other = VaultRef.parse(vault(SUB1, "v1")), VaultRef.parse(vault(SUB2, "v2"))
    for i in range(5):
        graph_fake.add_vm_item(allowed.id, vm(SUB1, f"web{i}"))
    graph_fake.add_sql_item(allowed.id, vm(SUB1, "sql01"), "Clara_db")
    graph_fake.add_vm_item(other.id, vm(SUB2, "secret01"))
    inventory = GraphInventory(graph, Scopes((SUB1, SUB2)), [allowed], ttl=60, clock=clock)
    resolver = Resolver(FakeBackupApi(), [allowed, other], inventory=inventory)
    assert sorted(i.friendly_name for i in resolver.all_items()) == [f"web{i}" for i in range(5)]
    assert [i.friendly_name for i in resolver.resolve("backup of web3 failed")] == ["web3"]
    assert resolver.resolve(f"secret01 {vm(SUB2, 'secret01')} failed") == []
    assert inventory.outside == 1
    assert inventory.refreshes == 1
    assert len(graph_fake.requests) == 3  # one query: 7 rows in pages of 3
    clock.t += 61
    resolver.forget()
    resolver.all_items()
    assert inventory.refreshes == 2


def test_inventory_lists_a_vault_its_scopes_cannot_cover_through_the_fallback() -> None:
    covered, apart = VaultRef.parse(vault(SUB1, "v1")), VaultRef.parse(vault(SUB3, "v3"))
    asked: list[VaultRef] = []

    def fallback(v: VaultRef) -> list[Any]:
        asked.append(v)
        return []

    inventory = GraphInventory(Rows(), Scopes((SUB1,)), [covered, apart], fallback=fallback)
    assert inventory.list_protected_vms(apart) == []
    assert asked == [apart]
    assert inventory.list_protected_vms(covered) == []
    assert inventory.refreshes == 1


def test_the_serve_factory_builds_a_poller_from_settings(
    env: FakeMsi, graph_fake: FakeResourceGraph
) -> None:
    from bot.serve import graph_poller
    from bot.settings import load_settings

    ids = seed_jobs(graph_fake)
    got: list[JobOutcome] = []
    off = load_settings(BACKUP_FIX_SCOPES=SUB1, BACKUP_FIX_POLL_MINUTES="0")
    assert graph_poller(off, got.append) is None
    settings = load_settings(
        BACKUP_FIX_SCOPES=f"{SUB1},mg:mg-empty", AZURE_RESOURCE_GRAPH_ENDPOINT=graph_fake.url
    )
    poller = graph_poller(settings, got.append)
    assert poller is not None
    assert poller.every == timedelta(minutes=10)
    poller._now = NOW_  # the seeded jobs are from NOW; Resource Graph keeps 14 days
    poller.poll_once()
    poller.stop()
    assert ids["vm"].lower() in {o.job_id for o in got}
    assert [bool(r.management_groups) for r in graph_fake.requests] == [False, True]
