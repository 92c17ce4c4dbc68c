"""``BackupApi`` on the real Azure SDKs: Recovery Services Backup here, compute and locks in
``actions/azure_compute.py``.

RSB 11.2.0 traps handled here (see the SDK notes): protected items are read as mappings (G1);
``backups.trigger`` and ``job_cancellations.trigger`` return None, so the ``Azure-AsyncOperation``
header is taken with ``cls=`` and the operation is followed to its job id by our own bounded polls.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, cast

from azure.core.credentials import TokenCredential
from azure.mgmt.recoveryservicesbackup import models

from actions.azure import (
    AzureClients,
    AzureConfig,
    FirstResponse,
    new_request_id,
    parse_time,
    value,
    wait_for,
)
from actions.azure_compute import ComputeOps
from actions.azure_errors import correlation_id, mapped
from actions.errors import AzureError
from actions.resources import Job, JobTask, Outcome, ProtectedVm, VaultRef, VmRef

FABRIC: Final = "Azure"
VM_ITEM_TYPE: Final = "Microsoft.Compute/virtualMachines"
_ITEM_PATH = re.compile(r"/protectionContainers/([^/]+)/protectedItems/([^/]+)$", re.IGNORECASE)
_FILTER_TIME: Final = "%Y-%m-%d %I:%M:%S %p"  # the az CLI's $filter date format, in UTC


def _headers(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    return pipeline_response.http_response.headers


def _with_headers(pipeline_response: Any, deserialized: Any, _headers: Any) -> Any:
    return deserialized, pipeline_response.http_response.headers


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _operation_id(headers: Mapping[str, str]) -> str | None:
    url = headers.get("Azure-AsyncOperation") or headers.get("Location")
    if not url:
        return None
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None


def _retry_after(headers: Mapping[str, str]) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0


def to_job(vault: VaultRef, resource: Any) -> Job:
    """A job resource (SDK model or REST body) as our plain value."""
    props = value(resource, "properties", default={})
    errors = value(props, "errorDetails", default=[]) or []
    first = errors[0] if errors else {}
    tasks = value(props, "extendedInfo", "tasksList", default=[]) or []
    code = value(first, "errorCode")
    return Job(
        vault=vault,
        name=str(value(resource, "name", default="")),
        entity=str(value(props, "entityFriendlyName", default="")),
        operation=str(value(props, "operation", default="")),
        status=str(value(props, "status", default="")),
        start_time=parse_time(value(props, "startTime")),
        end_time=parse_time(value(props, "endTime")),
        error_code=int(code) if code is not None else None,
        error_title=str(value(first, "errorTitle", default="")),
        error_message=str(value(first, "errorString", default="")),
        recommendations=tuple(str(r) for r in value(first, "recommendations", default=[])),
        tasks=tuple(
            JobTask(str(value(t, "taskId", default="")), str(value(t, "status", default="")))
            for t in tasks
        ),
        activity_id=str(value(props, "activityId", default="")),
    )


def to_protected_vm(vault: VaultRef, resource: Any) -> ProtectedVm | None:
    """A protected-item resource as our value; None for anything but an Azure (ARM) VM."""
    props = value(resource, "properties", default={})
    if str(value(props, "protectedItemType", default="")).lower() != VM_ITEM_TYPE.lower():
        return None
    found = _ITEM_PATH.search(str(value(resource, "id", default="")))
    vm_id = value(props, "virtualMachineId") or value(props, "sourceResourceId") or ""
    if found is None or not vm_id:
        return None
    return ProtectedVm(
        vault=vault,
        vm=VmRef.parse(str(vm_id)),
        container=found[1],
        item=found[2],
        friendly_name=str(value(props, "friendlyName", default="")),
        protection_state=str(value(props, "protectionState", default="")),
        health_status=str(value(props, "healthStatus", default="")),
        last_backup_status=str(value(props, "lastBackupStatus", default="")),
        last_backup_time=parse_time(value(props, "lastBackupTime")),
        policy_id=str(value(props, "policyId", default="")),
    )


class AzureBackupApi(ComputeOps):
    """``actions.ports.BackupApi`` over the Azure SDKs; every failure is an ``AzureError``."""

    def __init__(self, config: AzureConfig, *, credential: TokenCredential | None = None) -> None:
        self._config = config
        self._clients = AzureClients(config, credential=credential)

    def close(self) -> None:
        """Close the clients' connections."""
        self._clients.close()

    def __enter__(self) -> AzureBackupApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Reads
    def list_protected_vms(self, vault: VaultRef) -> list[ProtectedVm]:
        """The vault's protected Azure VMs."""
        client = self._clients.backup(vault.subscription_id)
        flt = "backupManagementType eq 'AzureIaasVM' and itemType eq 'VM'"
        rid = new_request_id()
        with mapped("list protected items", request_id=rid):
            pages = client.backup_protected_items.list(
                vault.name, vault.resource_group, filter=flt, request_id=rid
            )
            found = [to_protected_vm(vault, r) for r in pages]
        return [item for item in found if item is not None]

    def list_jobs(
        self, vault: VaultRef, *, since: datetime, status: str | None = None
    ) -> list[Job]:
        """The vault's VM backup jobs since ``since`` (optionally of one status), newest first."""
        client = self._clients.backup(vault.subscription_id)
        parts = ["backupManagementType eq 'AzureIaasVM'"]
        if status:
            parts.append(f"status eq '{status}'")
        parts.append(f"startTime eq '{_utc(since).strftime(_FILTER_TIME)}'")
        parts.append(f"endTime eq '{datetime.now(UTC).strftime(_FILTER_TIME)}'")
        rid = new_request_id()
        with mapped("list backup jobs", request_id=rid):
            pages = client.backup_jobs.list(
                vault.name, vault.resource_group, filter=" and ".join(parts), request_id=rid
            )
            jobs = [to_job(vault, r) for r in pages]
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(jobs, key=lambda j: j.start_time or oldest, reverse=True)

    def get_job(self, vault: VaultRef, job_name: str) -> Job:
        """One job with its error details and tasks."""
        client = self._clients.backup(vault.subscription_id)
        rid = new_request_id()
        with mapped("get backup job", request_id=rid):
            resource = client.job_details.get(
                vault.name, vault.resource_group, job_name, request_id=rid
            )
        return to_job(vault, resource)

    def get_job_status(self, vault: VaultRef, job_name: str) -> str:
        """The job's current status (InProgress, Completed, Failed, ...)."""
        return self.get_job(vault, job_name).status

    # Changes
    def trigger_backup(self, item: ProtectedVm, *, retain_until: datetime) -> Outcome:
        """Start an on-demand backup and follow its operation to the job id (bounded)."""
        vault = item.vault
        client = self._clients.backup(vault.subscription_id)
        body = models.BackupRequestResource(
            properties=models.IaasVMBackupRequest(
                recovery_point_expiry_time_in_utc=_utc(retain_until).replace(microsecond=0)
            )
        )
        rid = new_request_id()
        with mapped("trigger backup", request_id=rid):
            headers = cast(Any, client.backups.trigger)(
                vault.name, vault.resource_group, FABRIC, item.container, item.item, body,
                cls=_headers, request_id=rid,
            )  # fmt: skip
        corr = correlation_id(headers) or rid
        op_id = _operation_id(headers)
        status = self._follow(vault, op_id, corr, "backup") if op_id else None
        job_id = value(status, "properties", "jobId")
        if not job_id:
            return Outcome(
                ok=True,
                summary=f"Backup of {item.friendly_name} requested; its job is not known yet.",
                operation_id=op_id,
                correlation_id=corr,
            )
        job = f"{vault.id}/backupJobs/{job_id}"
        return Outcome(
            ok=True,
            summary=f"Backup of {item.friendly_name} started.",
            job_id=str(job_id),
            operation_id=op_id,
            correlation_id=corr,
            portal_url=self._config.portal_link(job),
        )

    def cancel_job(self, vault: VaultRef, job_name: str) -> Outcome:
        """Ask the service to cancel a job and follow the request (bounded)."""
        client = self._clients.backup(vault.subscription_id)
        rid = new_request_id()
        with mapped("cancel backup job", request_id=rid):
            headers = cast(Any, client.job_cancellations.trigger)(
                vault.name, vault.resource_group, job_name, cls=_headers, request_id=rid
            )
        corr = correlation_id(headers) or rid
        op_id = _operation_id(headers)
        status = self._follow(vault, op_id, corr, "cancellation") if op_id else None
        done = str(value(status, "status", default="")) == "Succeeded"
        return Outcome(
            ok=True,
            summary=f"Job {job_name} {'cancelled' if done else 'cancellation requested'}.",
            job_id=job_name,
            operation_id=op_id,
            correlation_id=corr,
            portal_url=self._config.portal_link(f"{vault.id}/backupJobs/{job_name}"),
        )

    def resume_protection(self, item: ProtectedVm, *, policy_id: str) -> Outcome:
        """Resume protection of a stopped or suspended item with the given policy."""
        vault = item.vault
        client = self._clients.backup(vault.subscription_id)
        body = models.ProtectedItemResource(
            properties=models.AzureIaaSComputeVMProtectedItem(
                source_resource_id=item.vm.id, policy_id=policy_id
            )
        )
        first = FirstResponse()
        rid = new_request_id()
        with mapped("resume protection", request_id=rid):
            poller = client.protected_items.begin_create_or_update(
                vault.name, vault.resource_group, FABRIC, item.container, item.item, body,
                raw_response_hook=first, request_id=rid,
            )  # fmt: skip
            finished = wait_for(poller, self._config.operation_timeout)
        return Outcome(
            ok=True,
            summary=(
                f"Protection of {item.friendly_name} resumed."
                if finished
                else f"Resuming protection of {item.friendly_name}; still in progress."
            ),
            correlation_id=correlation_id(first.headers) or rid,
            portal_url=self._config.portal_link(item.vm.id),
            details={"policy_id": policy_id, "finished": str(finished).lower()},
        )

    def _follow(self, vault: VaultRef, op_id: str, corr: str, what: str) -> Any:
        """Poll the vault's operation status until it leaves InProgress or the budget runs out."""
        client = self._clients.backup(vault.subscription_id)
        deadline = time.monotonic() + self._config.operation_timeout
        delay = self._config.polling_interval
        while True:
            with mapped(f"follow {what} operation", request_id=corr):
                status, headers = cast(Any, client.backup_operation_statuses.get)(
                    vault.name, vault.resource_group, op_id, cls=_with_headers
                )
            state = str(value(status, "status", default=""))
            if state == "Failed":
                code = value(status, "error", "code")
                raise AzureError(
                    f"{what} operation failed" + (f" ({code})" if code else ""),
                    code=str(code) if code else None,
                    correlation_id=corr,
                )
            left = deadline - time.monotonic()
            if state not in ("InProgress", "") or left <= 0:
                return status
            wait = _retry_after(headers) or delay
            time.sleep(min(wait, self._config.max_poll_delay, left))
            delay = min(max(delay * 2, 0.0), self._config.max_poll_delay)
