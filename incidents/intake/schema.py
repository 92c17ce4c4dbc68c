"""Azure Monitor's Common Alert Schema, read into a ``JobOutcome`` for Azure Backup job alerts.

The envelope (``schemaId: azureMonitorCommonAlertSchema``, ``data.essentials``) is documented;
the Azure Backup ``alertContext`` is not, and is read from a captured production payload (a SQL
in Azure VM job failure): ``extendedInfo.jobId``, ``protectedItemId``, ``sourceId``,
``sourceType``, ``linkedResourceName``. The vault is the alert's target (lower-cased by Azure).
The alert carries no error-code field; codes named by explicit fields (``errorCode``,
``errorCodes``, ``errorDetails``) are taken when present, else the job read later supplies them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from incidents.model import JobOutcome

SCHEMA_ID = "azureMonitorCommonAlertSchema"
BACKUP_SERVICE = "Azure Backup"
CONDITIONS = ("Fired", "Resolved")
MAX_TEXT = 2000  # characters kept of a description or an advice text
_VAULT = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"(?:Microsoft\.RecoveryServices/vaults|Microsoft\.DataProtection/backupVaults)/[^/]+$",
    re.IGNORECASE,
)
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,99}$|^-?[0-9]{1,12}$|^0x[0-9A-Fa-f]{1,8}$")
_SUCCEEDED = {"succeeded", "completed", "completedwithwarnings"}


class NotTheSchema(ValueError):
    """The body is not a Common Alert Schema alert; ``str()`` says what is missing."""


@dataclass(frozen=True)
class Alert:
    """One alert as the intake sees it: kept (``outcome``) or dropped (``dropped`` says why)."""

    alert_id: str
    monitor_condition: str
    outcome: JobOutcome | None
    dropped: str = ""  # not_backup, no_vault, out_of_scope, not_a_job


def read_alert(document: Any, *, in_scope: Callable[[str], bool]) -> Alert:
    """The alert in ``document`` (parsed JSON); NotTheSchema when it is not the schema."""
    essentials, context = _envelope(document)
    alert_id = _text(essentials.get("alertId"))
    condition = _text(essentials.get("monitorCondition"))
    if not alert_id:
        raise NotTheSchema("data.essentials.alertId is missing")
    if condition not in CONDITIONS:
        raise NotTheSchema("data.essentials.monitorCondition is neither Fired nor Resolved")
    if essentials.get("monitoringService") != BACKUP_SERVICE:
        return Alert(alert_id, condition, None, "not_backup")
    vault = _vault(essentials)
    if not vault:
        return Alert(alert_id, condition, None, "no_vault")
    if not in_scope(vault):
        return Alert(alert_id, condition, None, "out_of_scope")
    extended = _mapping(context.get("extendedInfo"))
    job = _text(extended.get("jobId"))
    if not job and _text(context.get("category")).lower() not in ("jobs", "job"):
        return Alert(alert_id, condition, None, "not_a_job")
    outcome = JobOutcome(
        source="alert",
        succeeded=condition == "Resolved" or _job_succeeded(context, extended),
        vault_id=vault,
        item_name=_item_name(context),
        workload=_text(context.get("sourceType")) or _text(context.get("formattedSourceType")),
        operation=_operation(_text(essentials.get("alertRule"))),
        at=_when(essentials),
        job_id=f"{vault}/backupJobs/{job}" if job else "",
        item_id=_text(context.get("protectedItemId")) or _text(context.get("sourceId")),
        error_codes=_codes(context, extended),
        error_message=_text(essentials.get("description"))[:MAX_TEXT],
        alert_id=alert_id,
        portal_link=_portal_link(essentials),
        raw=_raw(essentials, context, extended),
    )
    return Alert(alert_id, condition, outcome)


def _envelope(document: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        raise NotTheSchema("the body is not a JSON object")
    if document.get("schemaId") != SCHEMA_ID:
        raise NotTheSchema(f"schemaId is not {SCHEMA_ID}")
    data = document.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("essentials"), Mapping):
        raise NotTheSchema("data.essentials is missing")
    return data["essentials"], _mapping(data.get("alertContext"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _vault(essentials: Mapping[str, Any]) -> str:
    targets = essentials.get("alertTargetIDs")
    for target in targets if isinstance(targets, list) else []:
        if isinstance(target, str) and _VAULT.match(target.strip()):
            return target.strip()
    return ""


def _item_name(context: Mapping[str, Any]) -> str:
    """The item's own name: a database or share from the item id's last ``;`` part, else the
    linked resource (a VM, a server)."""
    item = _text(context.get("protectedItemId")) or _text(context.get("sourceId"))
    last = item.rsplit("/", 1)[-1] if item else ""
    name = last.rsplit(";", 1)[-1] if ";" in last else ""
    linked = _text(context.get("linkedResourceName"))
    if name and not re.fullmatch(r"[0-9a-f-]{32,36}", name, re.IGNORECASE):
        return name
    return linked or name or last


def _operation(rule: str) -> str:
    return "Restore" if rule.lower().startswith("restore") else "Backup"


def _when(essentials: Mapping[str, Any]) -> datetime:
    for key in ("firedDateTime", "resolvedDateTime"):
        raw = _text(essentials.get(key))
        if raw:
            try:
                at = datetime.fromisoformat(raw)
            except ValueError:
                continue
            return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _job_succeeded(context: Mapping[str, Any], extended: Mapping[str, Any]) -> bool:
    status = _text(extended.get("jobStatus")) or _text(context.get("jobStatus"))
    return status.lower() in _SUCCEEDED


def _codes(context: Mapping[str, Any], extended: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for where in (extended, context):
        for key in ("errorCode", "errorCodes", "errorDetails"):
            value = where.get(key)
            items = value if isinstance(value, list) else [value]
            for item in items:
                code = item.get("errorCode") if isinstance(item, Mapping) else item
                text = str(code).strip() if isinstance(code, str | int) else ""
                if text and _CODE.match(text) and text not in found:
                    found.append(text)
    return tuple(found[:10])


def _portal_link(essentials: Mapping[str, Any]) -> str:
    link = _text(essentials.get("investigationLink"))
    return link if link.startswith("https://portal.") else ""


def _raw(
    essentials: Mapping[str, Any], context: Mapping[str, Any], extended: Mapping[str, Any]
) -> dict[str, object]:
    """What the incident may show beyond the record: rule, severity, advice, display names."""
    keep: dict[str, object] = {
        "monitorCondition": _text(essentials.get("monitorCondition")),
        "alertRule": _text(essentials.get("alertRule")),
        "severity": _text(essentials.get("severity")),
        "originAlertId": _text(essentials.get("originAlertId"))[:500],
        "recommendedActions": _text(extended.get("recommendedActions"))[:MAX_TEXT],
        "linkedResourceName": _text(context.get("linkedResourceName")),
        "linkedResourceId": _text(context.get("linkedResourceId")),
        "formattedSourceType": _text(context.get("formattedSourceType")),
        "datasourceId": _text(context.get("sourceId")),
        "category": _text(context.get("category")),
    }
    return {key: value for key, value in keep.items() if value}
