# ruff: noqa: E501 (resource ids read better whole than split)
"""Azure Monitor alerts for the intake tests: the real SQL job failure and composed shapes.

``sql()`` is the verified payload (tests/data/alerts/sql-job-failure.json). ``vm()``,
``files()`` and ``mars()`` are composed from the documented Common Alert Schema envelope with an
``alertContext`` shaped like the SQL one (see tests/data/alerts/README.md); ``metric()`` is a
non-backup metric alert shaped like Microsoft's documented sample.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "alerts"
SUB = "fca54459-0e45-471d-918a-7059ac54e7ee"
# The vaults as an operator configures them (Azure's alerts carry them lower-cased).
SQL_VAULT = (
    f"/subscriptions/{SUB}/resourceGroups/rg-infrastructure-prod-rsv/providers/"
    "Microsoft.RecoveryServices/vaults/rsv-infra-prod-01"
)
APP_SUB = "5b1c7d52-3a8e-4f3e-9c0a-2f1e8d4b6a71"
APP_VAULT = (
    f"/subscriptions/{APP_SUB}/resourceGroups/rg-backup/providers/"
    "Microsoft.RecoveryServices/vaults/rsv-app-01"
)
OTHER_VAULT = (
    f"/subscriptions/{APP_SUB}/resourceGroups/rg-other/providers/"
    "Microsoft.RecoveryServices/vaults/rsv-not-ours"
)


def sql() -> dict[str, Any]:
    """The real SQL-in-VM job-failure alert, verbatim."""
    document: dict[str, Any] = json.loads((DATA / "sql-job-failure.json").read_text("utf-8"))
    return document


def _alert(
    *,
    vault: str,
    rule: str,
    description: str,
    context: dict[str, Any],
    fired: str = "2026-03-14T02:10:41.5512345Z",
) -> dict[str, Any]:
    sub = vault.split("/")[2]
    alert_guid = str(uuid.uuid4())
    alert_id = f"/subscriptions/{sub}/providers/Microsoft.AlertsManagement/alerts/{alert_guid}"
    rg = vault.split("/")[4]
    return {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": alert_id,
                "alertRule": rule,
                "severity": "Sev1",
                "signalType": "Log",
                "monitorCondition": "Fired",
                "monitoringService": "Azure Backup",
                "alertTargetIDs": [vault.lower()],
                "configurationItems": [vault.rsplit("/", 1)[-1]],
                "originAlertId": uuid.uuid4().hex,
                "firedDateTime": fired,
                "description": description,
                "essentialsVersion": "1.0",
                "alertContextVersion": "1.0",
                "investigationLink": "https://portal.azure.com/#view/Microsoft_Azure_Monitoring_"
                f"Alerts/Issue.ReactView/alertId/{alert_id.replace('/', '%2f')}",
                "targetResourceType": "microsoft.recoveryservices/vaults",
                "targetResourceGroup": rg,
            },
            "alertContext": {"category": "Jobs", "alertVersionNumber": "V2020_10", **context},
            "customProperties": None,
        },
    }


def vm(*, vault: str = APP_VAULT, name: str = "vm-app-01", rg: str = "rg-app") -> dict[str, Any]:
    """A composed Azure VM backup failure (the VM agent does not answer)."""
    vm_id = f"/subscriptions/{vault.split('/')[2]}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}"
    container = f"IaasVMContainer;iaasvmcontainerv2;{rg};{name}"
    return _alert(
        vault=vault,
        rule="Backup Failure",
        description="VM Agent unable to communicate with Azure Backup",
        context={
            "sourceId": vm_id,
            "sourceType": "AzureIaasVM",
            "formattedSourceType": "AzureVM",
            "sourceVersion": "IaasVMContainerV2",
            "affectedItems": vm_id,
            "protectedItemId": f"{vault}/backupFabrics/Azure/protectionContainers/{container}"
            f"/protectedItems/VM;iaasvmcontainerv2;{rg};{name}",
            "linkedResourceId": vm_id,
            "linkedResourceName": name,
            "firstLevelContainerId": f"iaasvmcontainerv2;{rg};{name}",
            "secondLevelContainerId": None,
            "extendedInfo": {
                "jobId": str(uuid.uuid4()),
                "possibleCauses": None,
                "occurrenceCount": 1,
                "recommendedActions": "Ensure the VM agent is installed and running. For "
                "troubleshooting instructions, see https://aka.ms/AB-UserErrorGuestAgentStatusUnavailable",
            },
        },
    )


def files(*, vault: str = APP_VAULT) -> dict[str, Any]:
    """A composed Azure Files share backup failure."""
    sub = vault.split("/")[2]
    account = f"/subscriptions/{sub}/resourceGroups/rg-files/providers/Microsoft.Storage/storageAccounts/stfiles01"
    container = "StorageContainer;Storage;rg-files;stfiles01"
    return _alert(
        vault=vault,
        rule="Backup Failure",
        description="The specified file share does not exist.",
        context={
            "sourceId": f"{account}/fileServices/default/shares/finance",
            "sourceType": "AzureFileShare",
            "formattedSourceType": "AzureFileShare",
            "sourceVersion": "StorageContainer",
            "protectedItemId": f"{vault}/backupFabrics/Azure/protectionContainers/{container}"
            "/protectedItems/AzureFileShare;finance",
            "linkedResourceId": account,
            "linkedResourceName": "stfiles01",
            "extendedInfo": {
                "jobId": str(uuid.uuid4()),
                "occurrenceCount": 1,
                "recommendedActions": "See https://aka.ms/AB-UserErrorFileShareNotFound",
            },
        },
    )


def mars(*, vault: str = APP_VAULT, server: str = "srv-file-01") -> dict[str, Any]:
    """A composed MARS agent (files and folders) backup failure, naming its error code."""
    return _alert(
        vault=vault,
        rule="Backup Failure",
        description="Microsoft Azure Recovery Services Agent was unable to access the scratch "
        "location to initialize VHD",
        context={
            "sourceId": f"{vault}/backupFabrics/Azure/protectionContainers/Windows;{server}",
            "sourceType": "FileFolder",
            "formattedSourceType": "MARS",
            "sourceVersion": "Windows",
            "protectedItemId": f"{vault}/backupFabrics/Azure/protectionContainers/Windows;{server}"
            f"/protectedItems/FileFolder;{server}",
            "linkedResourceName": server,
            "extendedInfo": {
                "jobId": str(uuid.uuid4()),
                "errorCode": "SalVhdInitializationError",
                "occurrenceCount": 2,
                "recommendedActions": "Check the scratch folder location.",
            },
        },
    )


def metric() -> dict[str, Any]:
    """A platform metric alert (not Azure Backup), shaped like the documented sample."""
    doc = _alert(
        vault=APP_VAULT,
        rule="cpu-high",
        description="CPU above 90%",
        context={},
    )
    ess = doc["data"]["essentials"]
    ess.update(
        monitoringService="Platform",
        signalType="Metric",
        alertTargetIDs=[
            f"/subscriptions/{APP_SUB}/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/vm-app-01"
        ],
    )
    doc["data"]["alertContext"] = {
        "properties": None,
        "conditionType": "SingleResourceMultipleMetricCriteria",
        "condition": {"windowSize": "PT5M", "allOf": [{"metricName": "Percentage CPU"}]},
    }
    return doc


def resolved(document: dict[str, Any]) -> dict[str, Any]:
    """The same alert, ``monitorCondition: Resolved``."""
    doc = copy.deepcopy(document)
    doc["data"]["essentials"]["monitorCondition"] = "Resolved"
    doc["data"]["essentials"]["resolvedDateTime"] = "2026-03-14T03:00:00Z"
    return doc


def body(document: dict[str, Any]) -> bytes:
    """The bytes an action group sends."""
    return json.dumps(document).encode()
