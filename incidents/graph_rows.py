"""Resource Graph job rows (``actions.graph``'s FAILED_JOBS and SUCCEEDED_BACKUPS) as
:class:`incidents.model.JobOutcome` records, source ``"poll"``.

Recovery Services vault jobs name their item ``entityFriendlyName`` and their workload
``workloadType`` (SQL, HANA) or ``backupManagementType`` (AzureIaasVM, AzureStorage, MAB); Backup
vault jobs use ``dataSourceName`` and ``dataSourceType``. Error details are kept when a row has
them (not documented for Resource Graph): ``errorCode``/``errorString`` on Recovery Services jobs
(the code is a number for VM jobs; ``extendedInfo.dynamicErrorMessage`` may name the symbolic
code), ``code``/``message`` on Backup vault jobs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from incidents.model import JobOutcome

SUCCEEDED = frozenset({"completed", "completedwithwarnings"})
_BACKUP_VAULT_JOBS = "microsoft.dataprotection/backupvaults/backupjobs"
_CODE_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,}$")  # a symbolic code, not a sentence


def _text(row: Mapping[str, Any], *names: str) -> str:
    for name in names:
        found = row.get(name)
        if found not in (None, ""):
            return str(found)
    return ""


def _when(raw: Any) -> datetime | None:
    moment: datetime | None = raw if isinstance(raw, datetime) else None
    if moment is None and raw:
        try:
            moment = datetime.fromisoformat(str(raw))
        except ValueError:
            return None
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def errors_of(row: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
    """The row's error codes (symbolic ones first, each once) and first message."""
    details = row.get("errorDetails")
    entries = [d for d in details if isinstance(d, Mapping)] if isinstance(details, list) else []
    codes: list[str] = []
    dynamic = _text(row, "dynamicErrorMessage")
    if _CODE_WORD.match(dynamic):
        codes.append(dynamic)
    for entry in entries:
        code = _text(entry, "errorCode", "code")
        if code:
            codes.append(code)
    message = next((_text(e, "errorString", "message", "errorTitle") for e in entries), "")
    unique = list(dict.fromkeys(codes))
    unique.sort(key=lambda c: c.isdigit())  # stable: symbolic codes first, numbers after
    return tuple(unique), message


def job_outcome(row: Mapping[str, Any]) -> JobOutcome | None:
    """One job row as a JobOutcome; None for a row without an id or a start time."""
    job_id = _text(row, "id").lower()  # the dedupe key: alerts lower-case their vault ids
    at = _when(row.get("startTime"))
    if not job_id or at is None:
        return None
    backup_vault = _text(row, "type").lower() == _BACKUP_VAULT_JOBS
    vault_id = _text(row, "vaultId").lower() or job_id.split("/backupjobs/", 1)[0]
    if backup_vault:
        item_name = _text(row, "dataSourceName", "entityFriendlyName")
        workload = _text(row, "dataSourceType")
        item_id = _text(row, "backupInstanceId", "dataSourceId")
    else:
        item_name = _text(row, "entityFriendlyName", "dataSourceName")
        workload = _text(row, "workloadType", "backupManagementType")
        item_id = _text(row, "backupInstanceId")
    codes, message = errors_of(row)
    return JobOutcome(
        source="poll",
        succeeded=_text(row, "status").lower() in SUCCEEDED,
        vault_id=vault_id,
        item_name=item_name,
        workload=workload,
        operation=_text(row, "operation"),
        at=at,
        job_id=job_id,
        item_id=item_id,
        error_codes=codes,
        error_message=message,
        raw=dict(row),
    )
