# ruff: noqa: E501 (ARM resource ids and canned REST bodies read better whole than split)
"""A fake Azure Resource Manager over HTTPS on 127.0.0.1, for the real Azure SDK clients.

It serves the REST paths the bot uses (Recovery Services Backup, compute, locks, resource groups)
from an in-memory model keyed by lower-cased resource id, with the real JSON shapes. Mutations change
the model: a backup trigger creates a job and an operation (InProgress, then Succeeded with its
``jobId``), a cancel moves the job to Cancelled, deletes remove, and a lock on a resource group makes
deletes in it answer 409 ``ScopeLocked``. Every request is recorded (``count``), and ``fail`` injects
statuses (403/404/409/429 with Retry-After/500) or delays into the next N calls of a route.

The certificate comes from a ``trustme`` CA written to ``ca_bundle``: set ``REQUESTS_CA_BUNDLE`` to it.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from tests.fakes.tls import TlsServer

_DEFAULT_CODES = {
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "ResourceNotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


@dataclass
class Recorded:
    """One request the fake received, with what it answered."""

    method: str
    path: str  # unquoted
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any
    status: int = 0
    correlation_id: str = ""


@dataclass
class Fault:
    """An injected answer for the next ``times`` matching calls (None: every call)."""

    method: str
    path_part: str
    status: int | None
    code: str | None
    retry_after: str | None
    delay: float
    times: int | None


@dataclass
class Reply:
    """What a route answers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_RG = _SUB + r"/resourcegroups/(?P<rg>[^/]+)"
_VAULT = _RG + r"/providers/microsoft\.recoveryservices/vaults/(?P<vault>[^/]+)"
_ITEM = _VAULT + r"/backupfabrics/[^/]+/protectioncontainers/[^/]+/protecteditems/[^/]+"
_VM = _RG + r"/providers/microsoft\.compute/virtualmachines/(?P<vm>[^/]+)"
_RPCS = _RG + r"/providers/microsoft\.compute/restorepointcollections"
_LOCKS = _RG + r"/providers/microsoft\.authorization/locks"
_OPS = r"(?:/backupoperations|/operationsstatus|/operations)/(?P<op>[^/]+)"
_RESULTS = r"/operationresults/(?P<op>[^/]+)"


class ArmModel:
    """The in-memory resources and the REST routes over them (callers hold ``lock``)."""

    def __init__(self, *, operation_polls: int) -> None:
        self.lock = threading.RLock()
        self.operation_polls = operation_polls  # status polls answered InProgress before Succeeded
        self.base_url = ""
        self.tokens: list[str] = []
        self.resources: dict[str, dict[str, Any]] = {}  # lower-cased id -> REST body
        self.instance_views: dict[str, dict[str, Any]] = {}  # lower-cased VM id -> instance view
        self.operations: dict[str, dict[str, Any]] = {}

    # Building the model
    def _put(self, resource: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.resources[resource["id"].lower()] = resource
        return resource

    def add_resource_group(self, sub: str, name: str, *, location: str = "eastasia") -> str:
        """A resource group (added implicitly by the other ``add_*``); returns its id."""
        rid = f"/subscriptions/{sub}/resourceGroups/{name}"
        if rid.lower() not in self.resources:
            self._put({"id": rid, "name": name, "location": location,
                       "type": "Microsoft.Resources/resourceGroups",
                       "properties": {"provisioningState": "Succeeded"}})  # fmt: skip
        return rid

    def add_vault(self, sub: str, rg: str, name: str) -> str:
        """A Recovery Services vault; returns its id."""
        self.add_resource_group(sub, rg)
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{name}"
        self._put({"id": rid, "name": name, "type": "Microsoft.RecoveryServices/vaults",
                   "location": "eastasia", "properties": {}})  # fmt: skip
        return rid

    def add_vm(
        self, sub: str, rg: str, name: str, *, linux: bool = False, power: str = "running",
        agent_status: str = "Ready", agent_version: str = "2.7.41491.1102",
        snapshot_code: str | None = "ProvisioningState/succeeded", snapshot_message: str = "",
    ) -> str:  # fmt: skip
        """A VM with its instance view and (unless ``snapshot_code`` is None) VMSnapshot extension."""
        self.add_resource_group(sub, rg)
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}"
        self._put({"id": rid, "name": name, "type": "Microsoft.Compute/virtualMachines",
                   "location": "eastasia", "properties": {"vmId": str(uuid.uuid4()),
                   "provisioningState": "Succeeded"}})  # fmt: skip
        ext_name = "VMSnapshotLinux" if linux else "VMSnapshot"
        view: dict[str, Any] = {
            "computerName": name,
            "vmAgent": {"vmAgentVersion": agent_version, "statuses": [{
                "code": "ProvisioningState/succeeded", "level": "Info",
                "displayStatus": agent_status, "message": f"Guest Agent is running ({agent_status})",
                "time": iso(datetime.now(UTC))}], "extensionHandlers": []},
            "extensions": [],
            "statuses": [
                {"code": "ProvisioningState/succeeded", "level": "Info",
                 "displayStatus": "Provisioning succeeded"},
                {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
            ],
        }  # fmt: skip
        if snapshot_code is not None:
            ext_type = f"Microsoft.Azure.RecoveryServices.{ext_name}"
            view["extensions"].append({"name": ext_name, "type": ext_type,
                "typeHandlerVersion": "1.0.9224.0", "statuses": [{"code": snapshot_code,
                "level": "Error" if "failed" in snapshot_code else "Info",
                "displayStatus": "Provisioning failed" if "failed" in snapshot_code else "Ready",
                "message": snapshot_message}]})  # fmt: skip
            state = "Failed" if "failed" in snapshot_code.lower() else "Succeeded"
            self._put({"id": f"{rid}/extensions/{ext_name}", "name": ext_name,
                "type": "Microsoft.Compute/virtualMachines/extensions", "location": "eastasia",
                "properties": {"publisher": "Microsoft.Azure.RecoveryServices", "type": ext_name,
                "typeHandlerVersion": "1.0", "provisioningState": state}})  # fmt: skip
        self.instance_views[rid.lower()] = view
        return rid

    def protect(
        self, vault_id: str, vm_id: str, *, state: str = "Protected", health: str = "Passed",
        last_status: str = "Healthy", last_time: datetime | None = None,
        policy_id: str | None = None,
    ) -> str:  # fmt: skip
        """A protected item of ``vm_id`` in the vault (the real VM item shape); returns its id."""
        vm = vm_id.split("/")
        rg, name = vm[4], vm[8]
        container = f"IaasVMContainer;iaasvmcontainerv2;{rg};{name}"
        item = f"VM;iaasvmcontainerv2;{rg};{name}"
        rid = (
            f"{vault_id}/backupFabrics/Azure/protectionContainers/{container}/protectedItems/{item}"
        )
        policy = policy_id if policy_id is not None else f"{vault_id}/backupPolicies/DefaultPolicy"
        when = last_time or datetime.now(UTC) - timedelta(days=1)
        self._put({"id": rid, "name": item,
            "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems",
            "properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                "backupManagementType": "AzureIaasVM", "workloadType": "VM",
                "containerName": f"iaasvmcontainerv2;{rg};{name}", "friendlyName": name,
                "virtualMachineId": vm_id, "sourceResourceId": vm_id, "protectionStatus": "Healthy",
                "protectionState": state, "healthStatus": health, "lastBackupStatus": last_status,
                "lastBackupTime": iso(when), "policyId": policy,
                "policyName": policy.rsplit("/", 1)[-1],
                "extendedInfo": {"recoveryPointCount": 3, "policyInconsistent": False}}})  # fmt: skip
        return rid

    def add_job(
        self, vault_id: str, vm_name: str, *, status: str = "Failed", operation: str = "Backup",
        start: datetime | None = None, error_code: int | None = None, error_title: str = "",
        error_string: str = "", recommendations: tuple[str, ...] = (),
        tasks: tuple[tuple[str, str], ...] = (("Take Snapshot", "Failed"),),
        name: str | None = None, user: bool = False,
    ) -> str:  # fmt: skip
        """An AzureIaaSVMJob (errorDetails, extendedInfo.tasksList, TimeSpan duration); its name."""
        job = name or str(uuid.uuid4())
        began = start or datetime.now(UTC) - timedelta(hours=2)
        took = timedelta(minutes=20, seconds=23.0896697)
        done = status not in ("InProgress", "Cancelling")
        errors = [] if error_code is None else [{"errorCode": error_code,
            "errorTitle": error_title, "errorString": error_string,
            "recommendations": list(recommendations)}]  # fmt: skip
        self._put({"id": f"{vault_id}/backupJobs/{job}", "name": job,
            "type": "Microsoft.RecoveryServices/vaults/backupJobs",
            "properties": {"jobType": "AzureIaaSVMJob", "entityFriendlyName": vm_name.upper(),
                "backupManagementType": "AzureIaasVM", "operation": operation, "status": status,
                "startTime": iso(began), "endTime": iso(began + took) if done else None,
                "duration": timespan(took), "activityId": str(uuid.uuid4()), "actionsInfo": [1],
                "virtualMachineVersion": "Compute", "isUserTriggered": user,
                "containerName": f"iaasvmcontainerv2;rg;{vm_name}", "errorDetails": errors,
                "extendedInfo": {"tasksList": [{"taskId": t, "status": s, "duration": "00:00:00"}
                                               for t, s in tasks],
                                 "propertyBag": {"VM Name": vm_name}, "progressPercentage": 0.0}}})  # fmt: skip
        return job

    def add_restore_point_collection(
        self, sub: str, rg: str, name: str, *, source_vm_id: str, points: int = 1
    ) -> str:
        """A restore-point collection with ``points`` restore points; returns its id."""
        self.add_resource_group(sub, rg)
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/restorePointCollections/{name}"
        rps = [{"id": f"{rid}/restorePoints/AzureBackup_{i}", "name": f"AzureBackup_{i}",
                "properties": {"provisioningState": "Succeeded"}} for i in range(points)]  # fmt: skip
        self._put({"id": rid, "name": name, "location": "eastasia",
            "type": "Microsoft.Compute/restorePointCollections",
            "properties": {"source": {"id": source_vm_id, "location": "eastasia"},
                           "provisioningState": "Succeeded", "restorePoints": rps}})  # fmt: skip
        return rid

    def add_lock(
        self, sub: str, rg: str, name: str, *, level: str = "CanNotDelete", notes: str = ""
    ) -> str:
        """A management lock on a resource group; returns its id."""
        self.add_resource_group(sub, rg)
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Authorization/locks/{name}"
        self._put({"id": rid, "name": name, "type": "Microsoft.Authorization/locks",
                   "properties": {"level": level, "notes": notes, "owners": []}})  # fmt: skip
        return rid

    def job(self, vault_id: str, job_name: str) -> dict[str, Any]:
        """A job's REST body, as the model holds it now."""
        with self.lock:
            return self.resources[f"{vault_id}/backupJobs/{job_name}".lower()]

    def get(self, resource_id: str) -> dict[str, Any] | None:
        """A resource's REST body, or None."""
        with self.lock:
            return self.resources.get(resource_id.lower())

    # Routes
    def route(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]] | None:
        """Answer a request: (status, body or list to page, headers), None for 404."""
        key = path.lower().rstrip("/")
        expand = next((v for k, v in query.items() if k.lower() == "$expand"), "").lower()
        if method == "GET" and (m := re.fullmatch(_SUB + "/resourcegroups", key)):
            prefix = f"/subscriptions/{m['sub']}/resourcegroups/"
            return 200, self._children(prefix, lambda rest: "/" not in rest), {}
        if method == "GET" and re.fullmatch(_LOCKS, key):
            return 200, self._children(key + "/", lambda rest: "/" not in rest), {}
        if method == "GET" and re.fullmatch(_RPCS, key):
            found = self._children(key + "/", lambda rest: "/" not in rest)
            return 200, [_without(r, "restorePoints") for r in found], {}
        if method == "GET" and re.fullmatch(_VAULT + "/backupprotecteditems", key):
            vault = key.removesuffix("/backupprotecteditems")
            return (
                200,
                self._children(vault + "/backupfabrics/", lambda r: "/protecteditems/" in r),
                {},
            )
        if method == "GET" and re.fullmatch(_VAULT + "/backupjobs", key):
            return 200, self._jobs(key + "/", query.get("$filter", "")), {}
        if method == "GET" and re.fullmatch(_VM + "/instanceview", key):
            view = self.instance_views.get(key.removesuffix("/instanceview"))
            return None if view is None else (200, view, {})
        if method == "GET" and re.fullmatch(_VM + "/extensions", key):
            return 200, {"value": self._children(key + "/", lambda rest: "/" not in rest)}, {}
        if m := re.search(_OPS + "$", key):
            return self._operation_status(m["op"]) if method == "GET" else None
        if m := re.search(_RESULTS + "$", key):
            return self._operation_result(m["op"]) if method == "GET" else None
        if method == "POST" and re.fullmatch(_ITEM + "/backup", key):
            return self._trigger(
                key.removesuffix("/backup"), path.rstrip("/").removesuffix("/backup"), body
            )
        if method == "POST" and re.fullmatch(_VAULT + "/backupjobs/[^/]+/cancel", key):
            return self._cancel(
                key.removesuffix("/cancel"), path.rstrip("/").removesuffix("/cancel")
            )
        if method == "PUT" and re.fullmatch(_ITEM, key):
            return self._update_item(key, path.rstrip("/"), body)
        if method == "DELETE":
            return self._delete(key)
        if method == "GET" and key in self.resources:
            resource = self.resources[key]
            if re.fullmatch(_RPCS + "/[^/]+", key) and expand != "restorepoints":
                return 200, _without(resource, "restorePoints"), {}
            if re.fullmatch(_VM, key) and expand == "instanceview":
                return 200, {**resource, "properties": {**resource["properties"],
                             "instanceView": self.instance_views.get(key, {})}}, {}  # fmt: skip
            return 200, resource, {}
        return None

    def _children(self, prefix: str, keep: Any) -> list[dict[str, Any]]:
        return [r for k, r in sorted(self.resources.items())
                if k.startswith(prefix) and keep(k[len(prefix):])]  # fmt: skip

    def _jobs(self, prefix: str, flt: str) -> list[dict[str, Any]]:
        wanted = dict(re.findall(r"(\w+) eq '([^']*)'", flt))
        jobs = []
        for job in self._children(prefix, lambda rest: "/" not in rest):
            props = job["properties"]
            if "status" in wanted and props["status"] != wanted["status"]:
                continue
            if "operation" in wanted and props["operation"] != wanted["operation"]:
                continue
            started = datetime.fromisoformat(props["startTime"][:26] + "+00:00")
            if "startTime" in wanted and started < filter_time(wanted["startTime"]):
                continue
            jobs.append(job)
        return jobs

    def _new_operation(self, job: str | None = None) -> str:
        op = str(uuid.uuid4())
        self.operations[op] = {"polls": 0, "job": job, "started": iso(datetime.now(UTC))}
        return op

    def _operation_status(self, op: str) -> tuple[int, Any, dict[str, str]] | None:
        state = self.operations.get(op)
        if state is None:
            return None
        state["polls"] += 1
        running = state["polls"] <= self.operation_polls
        body: dict[str, Any] = {"id": op, "name": op, "startTime": state["started"],
                                "status": "InProgress" if running else "Succeeded"}  # fmt: skip
        if not running:
            body["endTime"] = iso(datetime.now(UTC))
            if state["job"]:
                body["properties"] = {"objectType": "OperationStatusJobExtendedInfo",
                                      "jobId": state["job"]}  # fmt: skip
        return 200, body, {}

    def _operation_result(self, op: str) -> tuple[int, Any, dict[str, str]] | None:
        state = self.operations.get(op)
        if state is None:
            return None
        return (202, None, {}) if state["polls"] <= self.operation_polls else (204, None, {})

    def _async_headers(self, base: str, op: str) -> dict[str, str]:
        return {"Azure-AsyncOperation": f"{self.base_url}{base}/operationsStatus/{op}",
                "Location": f"{self.base_url}{base}/operationResults/{op}"}  # fmt: skip

    def _trigger(self, item_key: str, item_path: str, body: Any) -> Any:
        item = self.resources.get(item_key)
        if item is None:
            return None
        vault_id = item["id"].split("/backupFabrics/")[0]
        name = item["properties"]["friendlyName"]
        job = self.add_job(vault_id, name, status="InProgress", user=True,
                           start=datetime.now(UTC), tasks=(("Take Snapshot", "InProgress"),
                           ("Transfer data to vault", "NotStarted")))  # fmt: skip
        op = self._new_operation(job)
        return 202, None, self._async_headers(item_path, op)

    def _cancel(self, job_key: str, job_path: str) -> Any:
        job = self.resources.get(job_key)
        if job is None:
            return None
        job["properties"]["status"] = "Cancelled"
        job["properties"]["endTime"] = iso(datetime.now(UTC))
        return 202, None, self._async_headers(job_path, self._new_operation())

    def _update_item(self, key: str, path: str, body: Any) -> Any:
        item = self.resources.get(key)
        if item is None:
            return None
        props = (body or {}).get("properties", {})
        policy = props.get("policyId")
        if policy is not None:
            item["properties"]["policyId"] = policy
        item["properties"]["protectionState"] = props.get("protectionState") or (
            "Protected" if policy else "ProtectionStopped"
        )
        return 202, None, self._async_headers(path, self._new_operation())

    def _delete(self, key: str) -> Any:
        m = re.match(_RG, key)
        if key not in self.resources:
            return 204, None, {}
        is_lock = re.fullmatch(_LOCKS + "/[^/]+", key) is not None
        if m and not is_lock and self._children(m[0] + "/providers/microsoft.authorization/locks/",
                                                lambda rest: "/" not in rest):  # fmt: skip
            scope = self.resources.get(m[0], {}).get("id", m[0])
            return 409, {"error": {"code": "ScopeLocked", "message": (
                f"The scope '{self.resources[key]['id']}' cannot perform delete operation because "
                f"following scope(s) are locked: '{scope}'. Please remove the lock and try again."
            )}}, {}  # fmt: skip
        resource = self.resources.pop(key)
        for child in [k for k in self.resources if k.startswith(key + "/")]:
            del self.resources[child]
        if re.fullmatch(_VM + "/extensions/[^/]+", key):
            vm = key.split("/extensions/")[0]
            view = self.instance_views.get(vm, {})
            view["extensions"] = [e for e in view.get("extensions", [])
                                  if e["name"].lower() != resource["name"].lower()]  # fmt: skip
        if is_lock:
            return 200, None, {}
        sub = key.split("/")[2]
        op = self._new_operation()
        url = f"{self.base_url}/subscriptions/{sub}/providers/Microsoft.Compute/locations/eastasia/operations/{op}"
        return 202, None, {"Azure-AsyncOperation": url}


def _without(resource: dict[str, Any], prop: str) -> dict[str, Any]:
    props = {k: v for k, v in resource.get("properties", {}).items() if k != prop}
    return {**resource, "properties": props}


class FakeArm(ArmModel):
    """The fake Resource Manager; build the model with ``ArmModel``'s ``add_*`` methods."""

    def __init__(self, *, page_size: int = 2, operation_polls: int = 1) -> None:
        super().__init__(operation_polls=operation_polls)
        self.page_size = page_size
        self.retry_after_hint: str | None = None  # Retry-After on 202s and running operations
        self.requests: list[Recorded] = []
        self._faults: list[Fault] = []
        self._tls = TlsServer(self._handler(), prefix="fake-arm-")
        self.ca_bundle = self._tls.ca_bundle

    # Life cycle
    @property
    def url(self) -> str:
        """The base URL (for AZURE_ARM_ENDPOINT)."""
        return self._tls.url

    def start(self) -> FakeArm:
        """Start serving in a thread."""
        self.base_url = self.url
        self._tls.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the CA bundle."""
        self._tls.stop()

    def __enter__(self) -> FakeArm:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    # Test helpers
    def fail(
        self,
        method: str,
        path_part: str,
        status: int | None = None,
        *,
        times: int | None = 1,
        code: str | None = None,
        retry_after: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` calls whose path contains ``path_part`` with ``status``
        (after ``delay`` seconds); ``status=None`` only delays. ``times=None``: every call."""
        if status == 429 and retry_after is None:
            retry_after = "1"
        with self.lock:
            self._faults.append(
                Fault(method.upper(), path_part.lower(), status, code, retry_after, delay, times)
            )

    def count(self, method: str, path_part: str) -> int:
        """How many ``method`` requests had ``path_part`` in their path (any case)."""
        with self.lock:
            return sum(
                1
                for r in self.requests
                if r.method == method.upper() and path_part.lower() in r.path.lower()
            )

    def calls(self, method: str, path_part: str) -> list[Recorded]:
        """The recorded ``method`` requests whose path contains ``path_part``."""
        with self.lock:
            return [
                r
                for r in self.requests
                if r.method == method.upper() and path_part.lower() in r.path.lower()
            ]

    # Serving
    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.method == method and fault.path_part in path.lower():
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _answer(self, record: Recorded) -> Reply:
        auth = record.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return _error(401, "AuthenticationFailed", "no bearer token")
        with self.lock:
            self.tokens.append(auth.removeprefix("Bearer "))
        fault = self._fault_for(record.method, record.path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                reply = _error(fault.status, fault.code or _DEFAULT_CODES.get(fault.status, "Err"))
                if fault.retry_after is not None:
                    reply.headers["Retry-After"] = fault.retry_after
                return reply
        with self.lock:
            found = self.route(record.method, record.path, record.query, record.body)
        if found is None:
            return _error(404, "ResourceNotFound", f"no route or resource: {record.path}")
        status, body, headers = found
        if status == 202 and self.retry_after_hint is not None:
            headers.setdefault("Retry-After", self.retry_after_hint)
        if isinstance(body, list):
            body = self._page(body, record)
        return Reply(status, body, headers)

    def _page(self, items: list[Any], record: Recorded) -> dict[str, Any]:
        query = {k: v for k, v in record.query.items() if k.lower() != "$skiptoken"}
        skip = int(next((v for k, v in record.query.items() if k.lower() == "$skiptoken"), "0"))
        page: dict[str, Any] = {"value": items[skip : skip + self.page_size]}
        if skip + self.page_size < len(items):
            query["$skiptoken"] = str(skip + self.page_size)
            page["nextLink"] = f"{self.url}{record.path}?{urlencode(query)}"
        return page

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                record = Recorded(
                    method=self.command,
                    path=unquote(parts.path),
                    query=dict(parse_qsl(parts.query)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    correlation_id=str(uuid.uuid4()),
                )
                with fake.lock:
                    fake.requests.append(record)
                reply = fake._answer(record)
                record.status = reply.status
                data = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("x-ms-correlation-request-id", record.correlation_id)
                self.send_header("x-ms-request-id", str(uuid.uuid4()))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _error(status: int, code: str, message: str | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message or f"{code} (fake ARM)"}})


def filter_time(text: str) -> datetime:
    """Parse a ``$filter`` date the way the az CLI writes it ('%Y-%m-%d %I:%M:%S %p', UTC)."""
    return datetime.strptime(text, "%Y-%m-%d %I:%M:%S %p").replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """A timestamp as ARM writes it (7 fractional digits, Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def timespan(delta: timedelta) -> str:
    """A duration as a .NET TimeSpan string ("00:20:23.0896697")."""
    total = delta.total_seconds()
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{seconds:010.7f}"
