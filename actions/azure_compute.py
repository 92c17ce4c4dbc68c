"""The compute, locks and resource-group half of ``AzureBackupApi`` (argument order
``(resource_group, ...)``, unlike Recovery Services Backup's ``(vault, resource_group, ...)``).
"""

from __future__ import annotations

from typing import Any

from actions.azure import (
    AzureClients,
    AzureConfig,
    FirstResponse,
    new_request_id,
    value,
    wait_for,
)
from actions.azure_errors import correlation_id, mapped
from actions.resources import Extension, Lock, Outcome, RestorePointCollection, VmRef, VmStatus


def _status(statuses: Any, prefix: str) -> str:
    """The part after ``prefix/`` of the first status code with that prefix."""
    for status in statuses or []:
        code = str(value(status, "code", default=""))
        if code.lower().startswith(prefix.lower() + "/"):
            return code[len(prefix) + 1 :]
    return ""


def to_extension(view: Any) -> Extension:
    """An extension's instance view as our value (state = its first status code)."""
    statuses = value(view, "statuses", default=[]) or []
    first = statuses[0] if statuses else {}
    full_type = str(value(view, "type", default=""))
    return Extension(
        name=str(value(view, "name", default="")),
        # "Microsoft.Azure.RecoveryServices.VMSnapshot" -> "VMSnapshot", as properties.type says
        type=full_type.rsplit(".", 1)[-1],
        version=str(value(view, "typeHandlerVersion", default="")),
        state=str(value(first, "code", default="")),
        message=str(value(first, "message", default="")),
    )


class ComputeOps:
    """VM state, restore points, resource groups and locks, and the deletions among them."""

    _clients: AzureClients
    _config: AzureConfig

    def get_vm_status(self, vm: VmRef) -> VmStatus:
        """Power, provisioning and agent state, and the extensions' states (instance view)."""
        client = self._clients.compute(vm.subscription_id)
        rid = new_request_id()
        with mapped("read VM instance view", request_id=rid):
            view = client.virtual_machines.instance_view(vm.resource_group, vm.name, request_id=rid)
        statuses = value(view, "statuses", default=[])
        agent = value(view, "vmAgent", default={})
        agent_statuses = value(agent, "statuses", default=[]) or []
        first = agent_statuses[0] if agent_statuses else {}
        return VmStatus(
            vm=vm,
            power_state=_status(statuses, "PowerState"),
            provisioning_state=_status(statuses, "ProvisioningState"),
            agent_version=str(value(agent, "vmAgentVersion", default="")),
            agent_status=str(value(first, "displayStatus", default="")),
            agent_message=str(value(first, "message", default="")),
            extensions=tuple(to_extension(e) for e in value(view, "extensions", default=[]) or []),
        )

    def list_restore_point_collections(
        self, subscription_id: str, resource_group: str
    ) -> list[RestorePointCollection]:
        """The restore-point collections in a resource group, with their restore-point counts."""
        client = self._clients.compute(subscription_id)
        found = []
        rid = new_request_id()
        with mapped("list restore-point collections", request_id=rid):
            pages = client.restore_point_collections.list(resource_group, request_id=rid)
            names = [str(value(c, "name")) for c in pages]
            for name in names:
                # restorePoints are only returned with $expand (G9)
                full = client.restore_point_collections.get(
                    resource_group, name, expand="restorePoints", request_id=rid
                )
                found.append(
                    RestorePointCollection(
                        subscription_id=subscription_id,
                        resource_group=resource_group,
                        name=name,
                        source_vm_id=str(value(full, "properties", "source", "id", default="")),
                        restore_points=len(
                            value(full, "properties", "restorePoints", default=[]) or []
                        ),
                    )
                )
        return found

    def list_resource_groups(self, subscription_id: str, *, prefix: str) -> list[str]:
        """Names of the subscription's resource groups starting with ``prefix`` (any case)."""
        rid = new_request_id()
        with mapped("list resource groups", request_id=rid):
            groups = self._clients.list_resource_groups(subscription_id, request_id=rid)
            names = [str(g.get("name", "")) for g in groups]
        return [n for n in names if n.lower().startswith(prefix.lower())]

    def list_locks(self, subscription_id: str, resource_group: str) -> list[Lock]:
        """Management locks that apply at the resource group's level."""
        client = self._clients.locks(subscription_id)
        rid = new_request_id()
        with mapped("list management locks", request_id=rid):
            pages = client.management_locks.list_at_resource_group_level(
                resource_group, request_id=rid
            )
            locks = list(pages)
        return [
            Lock(
                subscription_id=subscription_id,
                resource_group=resource_group,
                name=str(lock.name),
                level=str(lock.level),
                notes=str(lock.notes or ""),
            )
            for lock in locks
        ]

    def delete_extension(self, vm: VmRef, extension: Extension) -> Outcome:
        """Remove a VM extension and wait (bounded) for the deletion."""
        client = self._clients.compute(vm.subscription_id)
        first = FirstResponse()
        rid = new_request_id()
        with mapped("delete VM extension", request_id=rid):
            poller = client.virtual_machine_extensions.begin_delete(
                vm.resource_group, vm.name, extension.name, raw_response_hook=first, request_id=rid
            )
            finished = wait_for(poller, self._config.operation_timeout)
        what = f"extension {extension.name} of {vm.name}"
        return self._deleted(what, finished, correlation_id(first.headers) or rid, vm.id)

    def delete_lock(self, lock: Lock) -> Outcome:
        """Remove a management lock from its resource group (synchronous in ARM)."""
        client = self._clients.locks(lock.subscription_id)
        first = FirstResponse()
        rid = new_request_id()
        with mapped("delete management lock", request_id=rid):
            client.management_locks.delete_at_resource_group_level(
                lock.resource_group, lock.name, raw_response_hook=first, request_id=rid
            )
        group = f"/subscriptions/{lock.subscription_id}/resourceGroups/{lock.resource_group}"
        return Outcome(
            ok=True,
            summary=f"Lock {lock.name} removed from {lock.resource_group}.",
            correlation_id=correlation_id(first.headers) or rid,
            portal_url=self._config.portal_link(group),
        )

    def delete_restore_point_collection(self, collection: RestorePointCollection) -> Outcome:
        """Delete a restore-point collection and wait (bounded) for the deletion."""
        client = self._clients.compute(collection.subscription_id)
        first = FirstResponse()
        rid = new_request_id()
        with mapped("delete restore-point collection", request_id=rid):
            poller = client.restore_point_collections.begin_delete(
                collection.resource_group, collection.name, raw_response_hook=first, request_id=rid
            )
            finished = wait_for(poller, self._config.operation_timeout)
        name = f"restore-point collection {collection.name}"
        return self._deleted(name, finished, correlation_id(first.headers) or rid, collection.id)

    def _deleted(self, what: str, finished: bool, corr: str, link: str) -> Outcome:
        return Outcome(
            ok=True,
            summary=f"Deleted {what}." if finished else f"Deleting {what}; still in progress.",
            correlation_id=corr,
            portal_url=self._config.portal_link(link),
            details={"finished": str(finished).lower()},
        )
