# ruff: noqa: E501 (ARM resource ids and the queries' text read better whole than split)
"""A fake Azure Resource Graph over HTTPS on 127.0.0.1, for the real ``ResourceGraphClient``.

``POST /providers/Microsoft.ResourceGraph/resources`` answers exactly the queries written in
``UNDERSTOOD`` (its own copies of what the bot sends: ``tests/test_resource_graph.py`` checks the
bot's constants against them) over an in-memory ``RecoveryServicesResources`` table of backup jobs
(both vault kinds) and protected items, in the real row shapes. Any other query gets 400
``InvalidQuery``. Scopes are honoured (subscriptions, or management groups mapped to
subscriptions), pages follow ``$top`` and opaque ``$skipToken``s bound to the query and scopes,
``resultFormat`` must be ``objectArray``, and every answer carries the quota headers
(``x-ms-user-quota-remaining``, ``x-ms-user-quota-resets-after``) of a per-window quota measured
on an injectable ``clock``; past the quota, or on ``throttle()``, it answers 429.

The certificate comes from a ``trustme`` CA written to ``ca_bundle`` (as ``tests/fakes/arm.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.arm import iso, timespan
from tests.fakes.tls import TlsServer

PATH = "/providers/microsoft.resourcegraph/resources"
RSV_JOB = "Microsoft.RecoveryServices/vaults/backupJobs"
BV_JOB = "Microsoft.DataProtection/backupVaults/backupJobs"
ITEM = "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems"

_JOB_COLUMNS = """\
| extend vaultId = tostring(split(tolower(id), '/backupjobs/')[0])
| project id, name, type, subscriptionId, resourceGroup, vaultId,
    status = tostring(properties.status),
    operation = tostring(coalesce(properties.operation, properties.operationCategory)),
    backupManagementType = tostring(properties.backupManagementType),
    workloadType = tostring(properties.workloadType),
    dataSourceType = tostring(properties.dataSourceType),
    entityFriendlyName = tostring(properties.entityFriendlyName),
    dataSourceName = tostring(properties.dataSourceName),
    dataSourceSetName = tostring(properties.dataSourceSetName),
    dataSourceId = tostring(properties.dataSourceId),
    backupInstanceId = tostring(properties.backupInstanceId),
    startTime = todatetime(properties.startTime),
    endTime = tostring(properties.endTime),
    errorDetails = properties.errorDetails,
    dynamicErrorMessage = tostring(properties.extendedInfo.dynamicErrorMessage)
| order by startTime asc, id asc"""

# The queries this fake answers, as it reads them: {since} and {items} are its parameters.
UNDERSTOOD: dict[str, str] = {
    "failed_jobs": """\
RecoveryServicesResources
| where type in~ ('microsoft.recoveryservices/vaults/backupjobs', 'microsoft.dataprotection/backupvaults/backupjobs')
| where tostring(properties.status) == 'Failed'
| where coalesce(todatetime(properties.endTime), todatetime(properties.startTime))
    >= datetime({since})
"""
    + _JOB_COLUMNS,
    "succeeded_backups": """\
RecoveryServicesResources
| where type in~ ('microsoft.recoveryservices/vaults/backupjobs', 'microsoft.dataprotection/backupvaults/backupjobs')
| where tostring(properties.status) in ('Completed', 'CompletedWithWarnings')
| where tolower(tostring(coalesce(properties.operation, properties.operationCategory))) == 'backup'
| where coalesce(todatetime(properties.endTime), todatetime(properties.startTime))
    >= datetime({since})
| extend itemKey = strcat(tostring(split(tolower(id), '/backupjobs/')[0]), '/',
    tolower(tostring(coalesce(properties.entityFriendlyName, properties.dataSourceName))))
| where tolower(tostring(properties.backupInstanceId)) in ({items}) or itemKey in ({items})
"""
    + _JOB_COLUMNS,
    "protected_items": """\
RecoveryServicesResources
| where type =~ 'microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems'
| project id, name, subscriptionId, resourceGroup,
    friendlyName = tostring(properties.friendlyName),
    protectedItemType = tostring(properties.protectedItemType),
    backupManagementType = tostring(properties.backupManagementType),
    workloadType = tostring(properties.workloadType),
    virtualMachineId = tostring(properties.virtualMachineId),
    sourceResourceId = tostring(properties.sourceResourceId),
    protectionState = tostring(properties.protectionState),
    healthStatus = tostring(properties.healthStatus),
    lastBackupStatus = tostring(properties.lastBackupStatus),
    lastBackupTime = tostring(properties.lastBackupTime),
    policyId = tostring(properties.policyId)
| order by id asc""",
}


def _pattern(template: str) -> re.Pattern[str]:
    text = re.escape(template)
    text = text.replace(r"\{since\}", r"(?P<since>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", 1)
    text = text.replace(r"\{items\}", r"(?P<items>'(?:[^'\\]|\\.)*'(?:, '(?:[^'\\]|\\.)*')*)", 1)
    text = text.replace(r"\{items\}", r"(?P=items)")
    return re.compile(text + r"\Z")


_PATTERNS = {name: _pattern(template) for name, template in UNDERSTOOD.items()}
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")


def understood(query: str) -> tuple[str, dict[str, str]] | None:
    """The name and parameters of a query this fake answers; None for any other text."""
    for name, pattern in _PATTERNS.items():
        found = pattern.match(query)
        if found:
            return name, found.groupdict()
    return None


@dataclass
class Request:
    """One query the fake received."""

    query: str
    subscriptions: list[str]
    management_groups: list[str]
    options: dict[str, Any]
    status: int = 0


class GraphTable:
    """The rows of ``RecoveryServicesResources`` the fake knows (callers hold ``lock``)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.resources: list[dict[str, Any]] = []
        self.groups: dict[str, set[str]] = {}  # management group -> subscriptions (lower case)
        self._answers: dict[str, list[dict[str, Any]]] = {}  # pages of one query share its rows

    def add_group(self, group: str, *subscriptions: str) -> None:
        """A management group holding these subscriptions."""
        with self.lock:
            self.groups.setdefault(group.lower(), set()).update(s.lower() for s in subscriptions)

    def _add(self, resource: dict[str, Any]) -> dict[str, Any]:
        parts = resource["id"].split("/")
        resource.setdefault("subscriptionId", parts[2])
        resource.setdefault("resourceGroup", parts[4].lower())
        with self.lock:
            self.resources.append(resource)
            self._answers.clear()
        return resource

    def add_vm_item(
        self, vault_id: str, vm_id: str, *, state: str = "Protected", health: str = "Passed",
        last_status: str = "Healthy", last_time: datetime | None = None,
    ) -> str:  # fmt: skip
        """A protected Azure VM item of a Recovery Services vault (the REST shape); its id."""
        rg, name = vm_id.split("/")[4], vm_id.split("/")[8]
        container = f"IaasVMContainer;iaasvmcontainerv2;{rg};{name}"
        item = f"VM;iaasvmcontainerv2;{rg};{name}"
        rid = (
            f"{vault_id}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/{item}"
        )
        when = last_time or datetime.now(UTC) - timedelta(hours=20)
        self._add({"id": rid, "name": item, "type": ITEM, "properties": {
            "protectedItemType": "Microsoft.Compute/virtualMachines", "backupManagementType": "AzureIaasVM",
            "workloadType": "VM", "friendlyName": name, "virtualMachineId": vm_id,
            "sourceResourceId": vm_id, "protectionState": state, "healthStatus": health,
            "lastBackupStatus": last_status, "lastBackupTime": iso(when),
            "policyId": f"{vault_id}/backupPolicies/DefaultPolicy"}})  # fmt: skip
        return rid

    def add_sql_item(self, vault_id: str, vm_id: str, database: str) -> str:
        """A protected SQL database in an Azure VM; its id."""
        rg, vm = vm_id.split("/")[4], vm_id.split("/")[8]
        item = f"SQLDataBase;MSSQLSERVER;{database}"
        rid = f"{vault_id}/backupFabrics/Azure/protectionContainers/VMAppContainer;Compute;{rg};{vm}/protectedItems/{item}"
        self._add({"id": rid, "name": item, "type": ITEM, "properties": {
            "protectedItemType": "AzureVmWorkloadSQLDatabase", "backupManagementType": "AzureWorkload",
            "workloadType": "SQLDataBase", "friendlyName": database, "sourceResourceId": vm_id,
            "protectionState": "Protected", "lastBackupStatus": "Healthy"}})  # fmt: skip
        return rid

    def add_rsv_job(
        self, vault_id: str, item: str, *, kind: str = "vm", status: str = "Failed",
        operation: str = "Backup", start: datetime | None = None, took: timedelta | None = None,
        item_id: str = "", error_code: int | str | None = None, error_string: str = "",
        dynamic: str = "", name: str | None = None,
    ) -> str:  # fmt: skip
        """A Recovery Services vault job: ``kind`` vm (AzureIaaSVMJob), sql (AzureWorkloadJob) or
        files (AzureStorageJob); returns its id."""
        job = name or str(uuid.uuid4())
        began = start or datetime.now(UTC) - timedelta(hours=1)
        took = took or timedelta(minutes=12, seconds=3.5)
        done = status not in ("InProgress", "Cancelling")
        props: dict[str, Any] = {
            "jobType": {"vm": "AzureIaaSVMJob", "sql": "AzureWorkloadJob", "files": "AzureStorageJob"}[kind],
            "backupManagementType": {"vm": "AzureIaasVM", "sql": "AzureWorkload", "files": "AzureStorage"}[kind],
            "entityFriendlyName": item, "operation": operation, "status": status,
            "startTime": iso(began), "endTime": iso(began + took) if done else None,
            "duration": timespan(took), "activityId": str(uuid.uuid4()), "isUserTriggered": False,
            "backupInstanceId": item_id,
        }  # fmt: skip
        if kind == "sql":
            props["workloadType"] = "SQLDataBase"
        if kind == "files":
            props["storageAccountName"] = "stfiles01"
        if error_code is not None:
            props["errorDetails"] = [{"errorCode": error_code, "errorString": error_string,
                                      "errorTitle": "", "recommendations": ["Retry the operation."]}]  # fmt: skip
        if dynamic:
            props["extendedInfo"] = {"dynamicErrorMessage": dynamic}
        return str(self._add({"id": f"{vault_id}/backupJobs/{job}", "name": job, "type": RSV_JOB,
                              "properties": props})["id"])  # fmt: skip

    def add_bv_job(
        self, vault_id: str, datasource: str, *, datasource_type: str = "Microsoft.Compute/disks",
        status: str = "Failed", start: datetime | None = None, error_code: str | None = None,
        error_message: str = "", instance: str | None = None,
    ) -> str:  # fmt: skip
        """A Backup vault (Microsoft.DataProtection) job; returns its id."""
        job = str(uuid.uuid4())
        began = start or datetime.now(UTC) - timedelta(hours=1)
        sub, rg = vault_id.split("/")[2], vault_id.split("/")[4]
        ds_id = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{datasource_type}/{datasource}"
        props: dict[str, Any] = {
            "operationCategory": "Backup", "operation": None, "status": status,
            "dataSourceName": datasource, "dataSourceSetName": datasource, "dataSourceType": datasource_type,
            "dataSourceId": ds_id, "vaultName": vault_id.rsplit("/", 1)[-1], "isUserTriggered": "false",
            "backupInstanceId": f"{vault_id}/backupInstances/{instance or datasource + '-' + job[:8]}",
            "startTime": iso(began), "endTime": iso(began + timedelta(minutes=3)), "duration": "PT3M",
        }  # fmt: skip
        if error_code is not None:
            props["errorDetails"] = [{"code": error_code, "message": error_message,
                                      "recommendedAction": ["Check the datasource."]}]  # fmt: skip
        return str(self._add({"id": f"{vault_id}/backupJobs/{job}", "name": job, "type": BV_JOB,
                              "properties": props})["id"])  # fmt: skip

    # What each understood query means
    def evaluate(self, name: str, params: dict[str, str], subs: set[str]) -> list[dict[str, Any]]:
        """The query's rows over resources of ``subs``, in its order, projected."""
        key = json.dumps([name, params, sorted(subs)])
        with self.lock:
            if key in self._answers:
                return self._answers[key]
        found = self._evaluate(name, params, subs)
        with self.lock:
            self._answers[key] = found
        return found

    def _evaluate(self, name: str, params: dict[str, str], subs: set[str]) -> list[dict[str, Any]]:
        with self.lock:
            rows = [r for r in self.resources if r["subscriptionId"].lower() in subs]
        if name == "protected_items":
            found = [_item_row(r) for r in rows if r["type"].lower() == ITEM.lower()]
            return sorted(found, key=lambda r: r["id"])
        since = datetime.fromisoformat(params["since"])
        jobs = [r for r in rows if r["type"].lower() in (RSV_JOB.lower(), BV_JOB.lower())]
        jobs = [r for r in jobs if _ended(r) >= since]
        if name == "failed_jobs":
            jobs = [r for r in jobs if r["properties"]["status"] == "Failed"]
        else:
            keys = {
                m.replace("\\'", "'").replace("\\\\", "\\")
                for m in _LITERAL.findall(params["items"])
            }
            jobs = [r for r in jobs if r["properties"]["status"] in ("Completed", "CompletedWithWarnings")
                    and _operation(r).lower() == "backup"
                    and (str(r["properties"].get("backupInstanceId") or "").lower() in keys
                         or _item_key(r) in keys)]  # fmt: skip
        found = [_job_row(r) for r in jobs]
        return sorted(found, key=lambda r: (r["startTime"], r["id"]))


def _operation(r: dict[str, Any]) -> str:
    return str(r["properties"].get("operation") or r["properties"].get("operationCategory") or "")


def _vault_of(r: dict[str, Any]) -> str:
    return r["id"].lower().split("/backupjobs/")[0]


def _item_key(r: dict[str, Any]) -> str:
    p = r["properties"]
    return f"{_vault_of(r)}/{str(p.get('entityFriendlyName') or p.get('dataSourceName') or '').lower()}"


def _ended(r: dict[str, Any]) -> datetime:
    p = r["properties"]
    return datetime.fromisoformat(p.get("endTime") or p["startTime"])


def _job_row(r: dict[str, Any]) -> dict[str, Any]:
    p = r["properties"]

    def s(key: str) -> str:
        return "" if p.get(key) is None else str(p[key])

    return {"id": r["id"], "name": r["name"], "type": r["type"].lower(),
            "subscriptionId": r["subscriptionId"], "resourceGroup": r["resourceGroup"],
            "vaultId": _vault_of(r), "status": s("status"), "operation": _operation(r),
            "backupManagementType": s("backupManagementType"), "workloadType": s("workloadType"),
            "dataSourceType": s("dataSourceType"), "entityFriendlyName": s("entityFriendlyName"),
            "dataSourceName": s("dataSourceName"), "dataSourceSetName": s("dataSourceSetName"),
            "dataSourceId": s("dataSourceId"), "backupInstanceId": s("backupInstanceId"),
            "startTime": iso(datetime.fromisoformat(p["startTime"])), "endTime": s("endTime"),
            "errorDetails": p.get("errorDetails"),
            "dynamicErrorMessage": str((p.get("extendedInfo") or {}).get("dynamicErrorMessage") or "")}  # fmt: skip


def _item_row(r: dict[str, Any]) -> dict[str, Any]:
    p = r["properties"]
    keys = ("friendlyName", "protectedItemType", "backupManagementType", "workloadType",
            "virtualMachineId", "sourceResourceId", "protectionState", "healthStatus",
            "lastBackupStatus", "lastBackupTime", "policyId")  # fmt: skip
    row = {"id": r["id"], "name": r["name"], "subscriptionId": r["subscriptionId"],
           "resourceGroup": r["resourceGroup"]}  # fmt: skip
    row.update({k: "" if p.get(k) is None else str(p[k]) for k in keys})
    return row


class FakeResourceGraph(GraphTable):
    """The fake service; fill the table with ``GraphTable``'s ``add_*`` methods."""

    def __init__(
        self, *, quota: int = 15, window: float = 5.0, default_top: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        super().__init__()
        self.quota, self.window, self.default_top, self.clock = quota, window, default_top, clock
        self.requests: list[Request] = []
        self.delay = 0.0  # seconds each answer takes (benchmarks: a network round trip)
        self._window_start = clock()
        self._used = 0
        self._throttles = 0
        self._tls = TlsServer(self._handler(), prefix="fake-arg-")
        self.ca_bundle = self._tls.ca_bundle

    @property
    def url(self) -> str:
        """The base URL (for AZURE_RESOURCE_GRAPH_ENDPOINT)."""
        return self._tls.url

    def start(self) -> FakeResourceGraph:
        """Start serving in a thread."""
        self._tls.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the CA bundle."""
        self._tls.stop()

    def __enter__(self) -> FakeResourceGraph:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def throttle(self, times: int = 1) -> None:
        """Answer the next ``times`` queries 429, whatever the quota says."""
        with self.lock:
            self._throttles += times

    def bundle_with(self, *other_bundles: str) -> str:
        """A CA bundle trusting this fake and the given bundles (e.g. the fake ARM's)."""
        path = Path(self._tls.dir.name) / "combined.pem"
        parts = [Path(p).read_text() for p in (self.ca_bundle, *other_bundles)]
        path.write_text("".join(parts))
        return str(path)

    # Serving
    def _quota_headers(self) -> dict[str, str]:
        left = max(0.0, self._window_start + self.window - self.clock())
        whole = int(left + 0.999)
        return {"x-ms-user-quota-remaining": str(max(self.quota - self._used, 0)),
                "x-ms-user-quota-resets-after": f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"}  # fmt: skip

    def _answer(self, body: Any, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if not headers.get("authorization", "").startswith("Bearer "):
            return 401, _error("AuthenticationFailed", "no bearer token"), {}
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return 400, _error("BadRequest", "no query"), {}
        request = Request(body["query"], list(body.get("subscriptions") or []),
                          list(body.get("managementGroups") or []), dict(body.get("options") or {}))  # fmt: skip
        with self.lock:
            self.requests.append(request)
            if self.clock() >= self._window_start + self.window:
                self._window_start, self._used = self.clock(), 0
            if self._throttles > 0 or self._used >= self.quota:
                self._throttles = max(self._throttles - 1, 0)
                self._used = self.quota
                request.status = 429
                return (
                    429,
                    _error("RateLimiting", "Please provide below info when asking for support"),
                    self._quota_headers(),
                )
            self._used += 1
            quota = self._quota_headers()
        if self.delay:
            time.sleep(self.delay)
        status, reply = self._query(request)
        request.status = status
        return status, reply, quota

    def _query(self, request: Request) -> tuple[int, Any]:
        if request.options.get("resultFormat") != "objectArray":
            return 400, _error("BadRequest", "this fake answers objectArray only")
        if bool(request.subscriptions) == bool(request.management_groups):
            return 400, _error("BadRequest", "give subscriptions or management groups")
        known = understood(request.query)
        if known is None:
            return 400, _error(
                "BadRequest", "Please provide below info when asking for support", "InvalidQuery"
            )
        with self.lock:
            subs = {s.lower() for s in request.subscriptions}
            for group in request.management_groups:
                subs |= self.groups.get(group.lower(), set())
        rows = self.evaluate(known[0], known[1], subs)
        scope = json.dumps([request.query, request.subscriptions, request.management_groups])
        digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
        offset = 0
        if token := request.options.get("$skipToken"):
            try:
                offset, bound = json.loads(base64.b64decode(token))
            except ValueError:
                return 400, _error("BadRequest", "malformed $skipToken")
            if bound != digest:
                return 400, _error("BadRequest", "$skipToken of another query or scope")
        top = min(int(request.options.get("$top") or self.default_top), 1000)
        page = rows[offset : offset + top]
        reply: dict[str, Any] = {"totalRecords": len(rows), "count": len(page),
                                 "resultTruncated": "false", "data": page, "facets": []}  # fmt: skip
        if offset + top < len(rows):
            reply["$skipToken"] = base64.b64encode(
                json.dumps([offset + top, digest]).encode()
            ).decode()
        return 200, reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                if urlsplit(self.path).path.lower().rstrip("/") != PATH:
                    status, body, extra = 404, _error("NotFound", self.path), {}
                else:
                    try:
                        parsed = json.loads(raw) if raw else None
                    except ValueError:
                        parsed = None
                    status, body, extra = fake._answer(parsed, headers)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("x-ms-request-id", str(uuid.uuid4()))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _error(code: str, message: str, detail: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if detail:
        error["details"] = [{"code": detail, "message": message}]
    return {"error": error}
