# ruff: noqa: E501 (resource ids and Markdown table rows read better whole than split)
"""The protected-item inventory at 1,000 vaults and 50,000 items: Resource Graph (one paged query,
the fake Resource Graph) against listing every vault through Resource Manager (the fake ARM).

The fakes run in this process over HTTPS; each refresh runs in a fresh child process (the real
SDK clients, DefaultAzureCredential against the fake managed identity) that measures its own wall
time, Python allocation peak (tracemalloc) and peak RSS, so the fakes' memory is not counted.
Both fakes answer from memory (the fake ARM through an index, see ``IndexedArm``); ``--latency``
adds the same delay to every answer of both, a stand-in for a network round trip. The fake Resource
Graph keeps Microsoft's documented quota (15 queries per 5 s), which the client waits out.

    .venv/bin/python -m bench.bench_inventory [--vaults 1000] [--items 50000] [--latency 0 0.05]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

SUBS = 10  # the vaults spread over this many subscriptions
SEC = "rg-backup"


def sub(i: int) -> str:
    return f"{i % SUBS:08d}-0000-4000-8000-000000000000"


def vault_id(i: int) -> str:
    return f"/subscriptions/{sub(i)}/resourceGroups/{SEC}/providers/Microsoft.RecoveryServices/vaults/vault-{i:04d}"


def vm_id(i: int, v: int) -> str:
    return f"/subscriptions/{sub(v)}/resourceGroups/rg-app-{v:04d}/providers/Microsoft.Compute/virtualMachines/vm-{i:05d}"


# The child: one refresh, measured
def child(args: argparse.Namespace) -> None:
    from actions.azure import AzureConfig
    from actions.graph import Scopes
    from actions.resolve import Resolver
    from actions.resources import VaultRef

    vaults = [VaultRef.parse(vault_id(i)) for i in range(args.vaults)]
    config = AzureConfig(arm_endpoint=args.url, read_timeout=30, retry_total=2)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    if args.child == "arm":
        from actions.azure_backup import AzureBackupApi

        api = AzureBackupApi(config)
        items = Resolver(api, vaults).all_items()
    else:
        from actions.azure_graph import ResourceGraph
        from actions.inventory import GraphInventory

        graph = ResourceGraph(config, endpoint=args.url)
        scopes = Scopes(tuple(sub(i) for i in range(SUBS)))
        inventory = GraphInventory(graph, scopes, vaults)
        items = Resolver(_NoApi(), vaults, inventory=inventory).all_items()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"items": len(items), "seconds": seconds, "peak_mib": peak / 2**20,
                      "rss_mib": rss / 1024, "rss_growth_mib": (rss - rss_before) / 1024}))  # fmt: skip


class _NoApi:
    def list_protected_vms(self, vault: Any) -> list[Any]:
        raise AssertionError("the Resource Graph path must not list vaults through ARM")


# The parent: the fakes and the report
def run_child(kind: str, url: str, ca: str, msi: Any, vaults: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "MSI_"))}
    env.update(REQUESTS_CA_BUNDLE=ca, IDENTITY_ENDPOINT=msi.endpoint, IDENTITY_HEADER=msi.secret,
               AZURE_TOKEN_CREDENTIALS="ManagedIdentityCredential")  # fmt: skip # noqa: S106 (a credential class name, not a secret)
    argv = [sys.executable, "-m", "bench.bench_inventory", "--child", kind, "--url", url,
            "--vaults", str(vaults)]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True, timeout=3600)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vaults", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--latency", type=float, nargs="*", default=[0.0, 0.05])
    parser.add_argument("--child", choices=["arm", "graph"])
    parser.add_argument("--url")
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0

    from tests.fakes.msi import FakeMsi
    from tests.fakes.resource_graph import FakeResourceGraph

    built = time.perf_counter()
    arm, graph = IndexedArm(), FakeResourceGraph()
    for i in range(args.items):
        v = i % args.vaults
        arm.protect(vault_id(v), vm_id(i, v))
        graph.add_vm_item(vault_id(v), vm_id(i, v))
    arm.index()
    built = time.perf_counter() - built
    print(
        f"# Inventory: {args.vaults:,} vaults, {args.items:,} items (fakes built in {built:.1f} s)"
    )
    print(f"load average at start: {os.getloadavg()[0]:.2f}, CPUs: {os.cpu_count()}\n")
    print("| source | latency per answer | requests | refresh | Python peak | peak RSS | items |")
    print("|---|---|---|---|---|---|---|")
    with FakeMsi() as msi, arm, graph:
        for latency in args.latency:
            for kind, fake in (("graph", graph), ("arm", arm)):
                fake_requests = _requests(fake)
                if kind == "arm":
                    arm.fail("GET", "/backupprotecteditems", None, times=None, delay=latency)
                else:
                    graph.delay = latency
                got = run_child(kind, fake.url, fake.ca_bundle, msi, args.vaults)
                arm._faults.clear()
                label = (
                    "Resource Graph, one paged query" if kind == "graph" else "ARM, vault by vault"
                )
                asked = _requests(fake) - fake_requests
                print(f"| {label} | {latency * 1000:.0f} ms | {asked:,} | {got['seconds']:.1f} s "
                      f"| {got['peak_mib']:.0f} MiB | {got['rss_mib']:.0f} MiB | {got['items']:,} |")  # fmt: skip
    return 0


def _requests(fake: Any) -> int:
    return len(fake.requests)


def _indexed_arm() -> Any:
    from tests.fakes.arm import FakeArm

    class Indexed(FakeArm):
        """The fake ARM with its vault listings indexed: its own scans are not what is measured."""

        def index(self) -> None:
            self._by_vault: dict[str, list[dict[str, Any]]] = {}
            for key in sorted(self.resources):
                if "/protecteditems/" in key:
                    vault = key.split("/backupfabrics/")[0]
                    self._by_vault.setdefault(vault + "/backupfabrics/", []).append(
                        self.resources[key]
                    )

        def _children(self, prefix: str, keep: Any) -> list[dict[str, Any]]:
            if prefix.endswith("/backupfabrics/"):
                return list(self._by_vault.get(prefix, []))
            return super()._children(prefix, keep)

    return Indexed(page_size=200)


def IndexedArm() -> Any:  # noqa: N802 (reads as the class it builds)
    return _indexed_arm()


if __name__ == "__main__":
    sys.exit(main())
