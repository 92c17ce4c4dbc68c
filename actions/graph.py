"""Azure Resource Graph, as plain values: the scopes the bot queries and every query it sends.

The queries are constants, here and nowhere else: ``tests/fakes/resource_graph.py`` answers
exactly these texts (a test holds the two together). They read ``RecoveryServicesResources``, the
table Microsoft documents for backup jobs and protected items (jobs are kept there 14 days); whether
job rows carry ``errorDetails`` is not documented, so the projections keep it when it is there.
Based on Microsoft Docs ("Query your backups using Azure Resource Graph", "Automate backup
responses"), CC BY 4.0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

SUBSCRIPTION_BATCH: Final = 200  # Microsoft's guidance: fewer than 300 subscriptions per query
ITEM_BATCH: Final = 100  # item keys per resolution query: keeps the query text short

_SUBSCRIPTION = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_GROUP = re.compile(r"^[A-Za-z0-9_().-]{1,90}$")  # management group ids: up to 90 of these

JOB_TYPES: Final = (
    "'microsoft.recoveryservices/vaults/backupjobs', "
    "'microsoft.dataprotection/backupvaults/backupjobs'"
)
_JOB_COLUMNS: Final = """\
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

# Failed jobs of both vault kinds that ended (or, without an end, started) at or after {since}
# (UTC): a long job that started before the last poll and failed after it is not missed.
FAILED_JOBS: Final = f"""\
RecoveryServicesResources
| where type in~ ({JOB_TYPES})
| where tostring(properties.status) == 'Failed'
| where coalesce(todatetime(properties.endTime), todatetime(properties.startTime))
    >= datetime({{since}})
{_JOB_COLUMNS}"""

# Succeeded backups since {since} of the items in {items}: each a lower-cased protected item (or
# backup instance) id, or '<vault id>/<item name>' when the id is not known (JobOutcome's key).
SUCCEEDED_BACKUPS: Final = f"""\
RecoveryServicesResources
| where type in~ ({JOB_TYPES})
| where tostring(properties.status) in ('Completed', 'CompletedWithWarnings')
| where tolower(tostring(coalesce(properties.operation, properties.operationCategory))) == 'backup'
| where coalesce(todatetime(properties.endTime), todatetime(properties.startTime))
    >= datetime({{since}})
| extend itemKey = strcat(tostring(split(tolower(id), '/backupjobs/')[0]), '/',
    tolower(tostring(coalesce(properties.entityFriendlyName, properties.dataSourceName))))
| where tolower(tostring(properties.backupInstanceId)) in ({{items}}) or itemKey in ({{items}})
{_JOB_COLUMNS}"""

ITEM_TYPE: Final = (
    "microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems"
)

# Every protected item of every Recovery Services vault in scope: the inventory.
PROTECTED_ITEMS: Final = f"""\
RecoveryServicesResources
| where type =~ '{ITEM_TYPE}'
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
| order by id asc"""

QUERIES: Final = {
    "failed_jobs": FAILED_JOBS,
    "succeeded_backups": SUCCEEDED_BACKUPS,
    "protected_items": PROTECTED_ITEMS,
}


def kql_time(moment: datetime) -> str:
    """A moment as a KQL datetime literal's text (UTC, seconds)."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def kql_strings(values: Iterable[str]) -> str:
    """Values as a KQL list of single-quoted string literals (quotes and backslashes escaped)."""
    escaped = (v.replace("\\", "\\\\").replace("'", "\\'") for v in values)
    return ", ".join(f"'{v}'" for v in escaped)


def failed_jobs_query(since: datetime) -> str:
    """FAILED_JOBS for jobs that ended at or after ``since``."""
    return FAILED_JOBS.format(since=kql_time(since))


def succeeded_backups_queries(since: datetime, item_keys: Sequence[str]) -> Iterator[str]:
    """SUCCEEDED_BACKUPS for ``item_keys`` (lower-cased), ``ITEM_BATCH`` keys per query."""
    keys = sorted({k.lower() for k in item_keys if k})
    for start in range(0, len(keys), ITEM_BATCH):
        chunk = kql_strings(keys[start : start + ITEM_BATCH])
        yield SUCCEEDED_BACKUPS.format(since=kql_time(since), items=chunk)


@dataclass(frozen=True, slots=True)
class Scopes:
    """Where Resource Graph looks: subscription ids and management group ids."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()

    @classmethod
    def parse(cls, values: Iterable[str]) -> Scopes:
        """Subscription ids and ``mg:<id>`` entries (BACKUP_FIX_SCOPES); ValueError on others."""
        subs: list[str] = []
        groups: list[str] = []
        for raw in values:
            value = raw.strip()
            if value[:3].lower() == "mg:":
                group = value[3:].strip()
                if not _GROUP.match(group):
                    raise ValueError(f"{value!r} is not mg:<management group id>")
                groups.append(group)
            elif _SUBSCRIPTION.match(value):
                subs.append(value.lower())
            else:
                raise ValueError(f"{value!r} is not a subscription id or mg:<management group id>")
        return cls(tuple(dict.fromkeys(subs)), tuple(dict.fromkeys(groups)))

    def __bool__(self) -> bool:
        return bool(self.subscriptions or self.management_groups)

    def batches(
        self, size: int = SUBSCRIPTION_BATCH
    ) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
        """(subscriptions, management groups) per request: subscriptions ``size`` at a time,
        then the management groups together (the API takes one kind or the other)."""
        for start in range(0, len(self.subscriptions), size):
            yield self.subscriptions[start : start + size], ()
        if self.management_groups:
            yield (), self.management_groups
