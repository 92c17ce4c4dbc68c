"""Generate the labelled matcher corpus (positives.jsonl, negatives.jsonl) deterministically.

Run once from the repository root:
    .venv/bin/python tests/corpus/build_corpus.py tests/data/reference/azure-docs
The .jsonl files are the source of truth afterwards; this script documents how they were made.
It reads only the reference TSVs (never knowledge/), so the corpus stays an independent judge.
"""

# Data lines (chat, look-alike errors, log filler) are kept verbatim, one per line, so long
# lines are content here, not style.
# ruff: noqa: E501

from __future__ import annotations

import json
import random
import sys
import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from rapidfuzz.distance import Levenshtein

HERE = Path(__file__).resolve().parent
SEED = 20240614

# zh-TW messages of the seed article (錯誤訊息 lines), keyed by code.
ZH_MESSAGES = {
    "UserErrorGuestAgentStatusUnavailable": "VM 代理程式無法與 Azure 備份通訊",
    "GuestAgentSnapshotTaskStatusError": "無法與 VM 代理程式通訊來取得快照集狀態",
    "UserErrorVmProvisioningStateFailed": "VM 處於失敗的布建狀態",
    "UserErrorRpCollectionLimitReached": "已達到還原點集合上限。",
    "UserErrorKeyvaultPermissionsNotConfigured": "備份沒有足夠的金鑰保存庫權限可以進行加密 VM 的備份。",
    "ExtensionSnapshotFailedNoNetwork": "因為虛擬機器沒有網路連線，所以快照集作業失敗",
    "ExtensionOperationFailedForManagedDisks": "VMSnapshot 延伸模組作業失敗",
    "BackUpOperationFailed": "備份因為內部錯誤而失敗 - 請在幾分鐘內重試此作業",
    "UserErrorUnsupportedDiskSize": "Azure 備份目前不支援已設定的磁片大小。",
    "UserErrorBackupOperationInProgress": "無法起始備份，因為另一個備份作業目前正在進行中",
    "UserErrorCrpReportedUserError": "備份因錯誤而失敗。 如需詳細資訊，請參閱作業錯誤訊息詳細資料。",
    "UserErrorBcmDatasourceNotPresent": "備份失敗：此虛擬機器不是（主動）受到 Azure 備份保護。",
}

# Old spellings of codes and the current code they stand for.
OLD_CODES = {
    "ExtentionOperationFailedForManagedDisks": "ExtensionOperationFailedForManagedDisks",
    "ExtentionOperationFailed": "ExtensionOperationFailedForManagedDisks",
    "UserErrorKeyVaultPermissionsNotConfigured": "UserErrorKeyvaultPermissionsNotConfigured",
}

# Message-only pastes of near-identical messages: the twin is acceptable as top-1.
TWINS = {
    "BackUpOperationFailed": ["BackUpOperationFailedV2"],
    "UserErrorVmNotInDesirableState": ["VmNotInDesirableState"],
    "VmNotInDesirableState": ["UserErrorVmNotInDesirableState"],
}
INTERNAL_ERROR = "backup failed with an internal error"

# Codes whose documented "message" is not something the service prints: no message-only cases.
NO_MESSAGE = {"UserErrorUnableToOpenMount", "VMRestorePointInternalError"}

RECOMMENDATIONS = [
    "Retry the operation in a few minutes. If the problem persists, contact Microsoft support.",
    "Review the troubleshooting article for this error and retry the backup.",
    "Check the VM and its extensions in the portal, then trigger an on-demand backup.",
    "Resolve the issue described in the error message and retry the operation.",
    "See https://aka.ms/AzureBackupTroubleshooting for the recommended steps.",
]

Template = Callable[["Ctx", str, str, int], str]


class Ctx:
    """Random but reproducible names, ids and timestamps for templates."""

    VMS = (
        "vm01",
        "vm-web-02",
        "sql-prod-01",
        "app-weu-03",
        "jumpbox01",
        "dc01",
        "erp-db-02",
        "vm-fin-11",
        "web-prod-04",
        "linux-batch-07",
        "rdsh-05",
        "sap-app-02",
    )
    RGS = ("rg-prod", "rg-prod-weu", "rg-erp", "rg-shared-infra", "rg-finance", "rg-web-neu")
    VAULTS = ("rsv-prod-weu", "rsv-prod-neu", "rsv-shared", "vault-backup-01", "rsv-erp")
    REGIONS = ("westeurope", "northeurope", "eastus2", "southeastasia", "eastasia")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.clock = datetime(2024, 3, 4, 1, 0, 0)

    def guid(self) -> str:
        """A reproducible GUID."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def vm(self) -> str:
        """A VM name."""
        return self.rng.choice(self.VMS)

    def rg(self) -> str:
        """A resource group name."""
        return self.rng.choice(self.RGS)

    def vault(self) -> str:
        """A Recovery Services vault name."""
        return self.rng.choice(self.VAULTS)

    def region(self) -> str:
        """An Azure region."""
        return self.rng.choice(self.REGIONS)

    def ts(self, sep: str = "T", z: str = "Z") -> str:
        """A timestamp; the clock only moves forward so log lines stay in order."""
        self.clock += timedelta(
            seconds=self.rng.randint(1, 90), microseconds=self.rng.randint(0, 999999)
        )
        return self.clock.strftime(f"%Y-%m-%d{sep}%H:%M:%S.%f") + z

    def vm_id(self, vm: str, rg: str) -> str:
        """A VM resource ID."""
        return (
            f"/subscriptions/{self.guid()}/resourceGroups/{rg}"
            f"/providers/Microsoft.Compute/virtualMachines/{vm}"
        )

    def rec(self) -> str:
        """A recommended action."""
        return self.rng.choice(RECOMMENDATIONS)


def case_variant(code: str, n: int) -> str:
    """Codes as people and tools retype them: mostly verbatim, sometimes recased."""
    if n % 7 == 3:
        return code.lower()
    if n % 11 == 5:
        return code.upper()
    if n % 5 == 1 and "BackUp" in code:
        return code.replace("BackUp", "Backup")
    return code


def wrap(text: str, width: int, indent: int) -> str:
    """Wrap like a PowerShell console does for Format-List values."""
    lines = textwrap.wrap(text, width) or [""]
    return ("\n" + " " * indent).join(lines)


def dumps(obj: object, indent: int | None = 2) -> str:
    """JSON as Azure tools print it."""
    return json.dumps(obj, indent=indent, ensure_ascii=False)


# ----- code-bearing templates: (ctx, code, message, n) -> text; message may be "" ---------------


def t_code(c: Ctx, code: str, msg: str, n: int) -> str:
    """Just the code, as pasted."""
    forms = (
        code,
        code.lower(),
        f"{code}\n",
        f"`{code}`",
        f"{code}?",
        f"  {code}  ",
        f"'{code}'",
        code.upper(),
    )
    return forms[n % len(forms)]


def t_sentence(c: Ctx, code: str, msg: str, n: int) -> str:
    """A chat line that mentions the code."""
    cv, vm, rg = case_variant(code, n), c.vm(), c.rg()
    forms = (
        f"anyone seen {cv} before? {vm} in {rg} keeps failing its nightly backup",
        f"Backup of {vm} failed overnight with errorCode={cv}",
        f"Job {c.guid()} failed. Code: {cv}",
        f"got {cv} again on {vm} :( third night in a row",
        f"Hi team, the scheduled backup for {vm} failed with error {cv}. Any idea what to check?",
        f"fyi {vm} restore failed - error code {cv.lower()}",
        f"Is {cv} something we can fix ourselves or do we need a support ticket?",
        f"{vm}: backup status Failed ({cv}) at {c.ts(' ', '')[:19]}",
    )
    return forms[n % len(forms)]


def _err(code: str, msg: str) -> dict[str, str]:
    return {"code": code, "message": msg} if msg else {"code": code}


def t_json_arm(c: Ctx, code: str, msg: str, n: int) -> str:
    """ARM/Azure JSON with the code as a value."""
    vm, rg, g = c.vm(), c.rg(), c.guid()
    k = n % 6
    if k == 0:
        return dumps({"error": _err(code, msg)})
    if k == 1:
        return dumps(
            {
                "id": f"{c.vm_id(vm, rg)}/operationResults/{g}",
                "name": g,
                "status": "Failed",
                "startTime": c.ts(),
                "endTime": c.ts(),
                "error": _err(code, msg),
            }
        )
    if k == 2:
        return dumps(
            [
                {
                    "TimeGenerated": c.ts(),
                    "JobUniqueId": g,
                    "JobOperation": "Backup",
                    "JobStatus": "Failed",
                    "JobFailureCode": code,
                    "BackupItemFriendlyName": vm,
                    "VaultName": c.vault(),
                    "JobDurationInSecs": c.rng.randint(40, 5000),
                }
            ]
        )
    if k == 3:
        return dumps(
            {
                "caller": "b3c9f1e2-backup-service",
                "correlationId": c.guid(),
                "eventTimestamp": c.ts(),
                "level": "Error",
                "resourceGroupName": rg,
                "operationName": {
                    "value": "Microsoft.RecoveryServices/vaults/backupFabrics/"
                    "protectionContainers/protectedItems/backup/action"
                },
                "status": {"value": "Failed"},
                "subStatus": {"value": "BadRequest"},
                "properties": {
                    "statusCode": "BadRequest",
                    "serviceRequestId": g,
                    "statusMessage": {"error": _err(code, msg)},
                },
            }
        )
    if k == 4:
        return dumps(
            {
                "schemaId": "azureMonitorCommonAlertSchema",
                "data": {
                    "essentials": {
                        "alertId": f"/subscriptions/{c.guid()}/providers/Microsoft.AlertsManagement/alerts/{g}",
                        "alertRule": "BackupFailure",
                        "severity": "Sev1",
                        "signalType": "Log",
                        "monitorCondition": "Fired",
                        "alertTargetIDs": [c.vm_id(vm, rg).lower()],
                    },
                    "alertContext": {
                        "properties": {
                            "errorCode": code,
                            "errorMessage": msg or None,
                            "backupItem": vm,
                            "vault": c.vault(),
                        }
                    },
                },
            }
        )
    return dumps(
        {
            "error": {
                "code": "BadRequest",
                "message": "One or more errors occurred.",
                "details": [_err(code, msg)],
            }
        }
    )


def t_json_escaped(c: Ctx, code: str, msg: str, n: int) -> str:
    """JSON whose string values hold escaped JSON (activity logs, webhooks, exports)."""
    inner = dumps({"error": _err(code, msg)}, None)
    k = n % 5
    if k == 0:
        return dumps(
            {
                "eventTimestamp": c.ts(),
                "level": "Error",
                "status": {"value": "Failed"},
                "properties": {"statusCode": "BadRequest", "statusMessage": inner},
            }
        )
    if k == 1:
        return dumps({"statusCode": 400, "headers": {"x-ms-request-id": c.guid()}, "body": inner})
    if k == 2:
        return dumps(
            {
                "time": c.ts(),
                "level": "error",
                "msg": "backup job failed",
                "vm": c.vm(),
                "detail": inner,
            },
            None,
        )
    if k == 3:
        return dumps(
            {
                "TimeGenerated": c.ts(),
                "Category": "AzureBackupReport",
                "OperationName": "Job",
                "Properties_s": dumps(
                    {
                        "JobFailureCode": code,
                        "JobStatus": "Failed",
                        "BackupItemName": c.vm(),
                        "ErrorMessage": msg,
                    },
                    None,
                ),
            }
        )
    return dumps(
        {
            "id": c.guid(),
            "eventType": "Backup.JobFailed",
            "subject": c.vm(),
            "data": dumps({"status": "Failed", "error": _err(code, msg)}, None),
            "eventTime": c.ts(),
        }
    )


def t_az_cli(c: Ctx, code: str, msg: str, n: int) -> str:
    """az CLI commands and their error or JSON output."""
    vm, rg, v = c.vm(), c.rg(), c.vault()
    m = msg or "The operation failed."
    k = n % 5
    if k == 0:
        return (
            f"$ az backup protection backup-now --resource-group {rg} --vault-name {v} "
            f"--container-name {vm} --item-name {vm} --retain-until 31-12-2024\n"
            f"ERROR: ({code}) {m}\nCode: {code}\nMessage: {m}"
        )
    if k == 1:
        return (
            f"az backup restore restore-disks -g {rg} -v {v} -c {vm} -i {vm} "
            f"-r {c.rng.randint(10**15, 10**16)} --storage-account stgrestore01\n"
            f"({code}) {m}\nCode: {code}\nMessage: {m}"
        )
    if k == 2:
        return (
            f"$ az backup job show -g {rg} -v {v} -n {c.guid()} "
            "--query properties.errorDetails\n"
            + dumps(
                [
                    {
                        "errorCode": c.rng.randint(100000, 499999),
                        "errorString": m,
                        "errorTitle": code,
                        "recommendations": [c.rec()],
                    }
                ]
            )
        )
    if k == 3:
        rows = [f"{c.ts(' ', '')[:19]}  {code:<60}  {vm:<14}  Failed"]
        return (
            f"$ az monitor log-analytics query -w {c.guid()} --analytics-query "
            "\"AddonAzureBackupJobs | where JobStatus == 'Failed' | project TimeGenerated, "
            'JobFailureCode, BackupItemFriendlyName, JobStatus" -o table\n'
            f"{'TimeGenerated':<19}  {'JobFailureCode':<60}  {'BackupItemFrien':<14}  JobStatus\n"
            f"{'-' * 19}  {'-' * 60}  {'-' * 14}  ---------\n" + "\n".join(rows)
        )
    return (
        f"$ az backup protection enable-for-vm --resource-group {rg} --vault-name {v} "
        f"--vm {vm} --policy-name DefaultPolicy\n"
        f"ERROR: Operation returned an invalid status 'Bad Request'\n"
        f"Code: {code}\nMessage: {m}\nTarget: {vm}"
    )


def t_ps_list(c: Ctx, code: str, msg: str, n: int) -> str:
    """PowerShell Format-List output."""
    vm, m = c.vm(), msg or "The operation failed."
    k = n % 5
    if k == 4:
        return (
            "PS C:\\> Get-AzRecoveryServicesBackupJobDetail -Job $job | Format-List WorkloadName,"
            " Status, ActivityId, ErrorDetails, Properties\n\n"
            f"WorkloadName : {vm}\nStatus       : Failed\nActivityId   : {c.guid()}\n"
            "ErrorDetails : {Microsoft.Azure.Commands.RecoveryServices.Backup.Cmdlets.Models."
            "AzureVmJobErrorInfo}\n"
            f"Properties   : {{[VM Name, {vm}], [Backup Size, 0 MB], [Error Code, {code}]}}\n"
        )
    if k == 0:
        return (
            "PS C:\\> $Error[0].Exception.Body | Format-List\n\n"
            f"Code    : {code}\nMessage : {wrap(m, 70, 10)}\nTarget  :\nDetails : {{}}\n"
        )
    if k == 1:
        return (
            "PS /home/ops> (Invoke-AzOperationalInsightsQuery -WorkspaceId $ws -Query $q).Results"
            " | Format-List\n\n"
            f"TimeGenerated          : {c.ts()}\nBackupItemFriendlyName : {vm}\n"
            f"JobOperation           : Backup\nJobStatus              : Failed\n"
            f"JobFailureCode         : {code}\nJobUniqueId            : {c.guid()}\n"
        )
    if k == 2:
        status = dumps({"error": _err(code, msg)}, None)
        return (
            "PS> Get-AzLog -ResourceGroupName rg-prod -Status Failed -MaxRecord 1 | fl\n\n"
            f"Authorization        :\nCaller               : backup-service\n"
            f"CorrelationId        : {c.guid()}\nEventTimestamp       : {c.ts(' ', '')[:19]}\n"
            f"Level                : Error\nOperationName        : "
            "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/"
            f"protectedItems/backup/action\nProperties           :\n"
            f"                       statusCode    : BadRequest\n"
            f"                       statusMessage : {status}\n"
            f"Status               : Failed\nSubStatus            : BadRequest\n"
        )
    return (
        "PS C:\\> Get-AzRecoveryServicesBackupJob -VaultId $vault.ID -Status Failed |\n"
        ">>   Select-Object WorkloadName, Operation, Status, StartTime, "
        "@{n='ErrorCode';e={$_.ErrorDetails[0].ErrorTitle}}, "
        "@{n='ErrorMessage';e={$_.ErrorDetails[0].ErrorMessage}} | Format-List\n\n"
        f"WorkloadName : {vm}\nOperation    : Backup\nStatus       : Failed\n"
        f"StartTime    : {c.ts(' ', '')[:19]}\nErrorCode    : {code}\n"
        f"ErrorMessage : {wrap(m, 60, 15)}\n"
    )


def t_ps_table(c: Ctx, code: str, msg: str, n: int) -> str:
    """PowerShell Format-Table output, wrapped or truncated."""
    vm, m = c.vm(), msg or "The operation failed."
    k = n % 5
    if k == 4:
        w = len(code)
        return (
            'PS> Search-AzGraph -Query "RecoveryServicesResources | where type =~ '
            "'microsoft.recoveryservices/vaults/backupjobs' | project vm=properties.entityFriendlyName,"
            ' status=properties.status, errorCode=properties.errorDetails[0].errorTitle" | ft\n\n'
            f"vm             status    {'errorCode':<{w}}\n--             ------    {'---------':<{w}}\n"
            f"{c.vm():<14} Completed\n{vm:<14} Failed    {code}\n{c.vm():<14} Completed\n"
        )
    if k == 0:
        w = max(len(code), 14)
        return (
            "PS> $results | Format-Table TimeGenerated, BackupItemFriendlyName, JobFailureCode"
            " -AutoSize\n\n"
            f"TimeGenerated        BackupItemFriendlyName {'JobFailureCode':<{w}}\n"
            f"-------------        ---------------------- {'-' * 14:<{w}}\n"
            f"{c.ts(' ', '')[:19]}  {vm:<22} {code}\n"
        )
    if k == 1:
        w = len(code)
        lines = textwrap.wrap(m, 38)
        body = f"{vm:<12} {code:<{w}} {lines[0]}\n" + "".join(
            f"{'':<12} {'':<{w}} {ln}\n" for ln in lines[1:]
        )
        return (
            "PS C:\\> $failed | Format-Table VM, Code, Message -Wrap\n\n"
            f"{'VM':<12} {'Code':<{w}} Message\n{'--':<12} {'----':<{w}} -------\n" + body
        )
    if k == 2:
        short = m if len(m) < 40 else m[:37] + "..."
        return (
            "PS> Get-AzRecoveryServicesBackupJob -VaultId $v.ID -From (Get-Date).AddDays(-1)"
            " | ? Status -eq Failed | ft WorkloadName,Status,StartTime,Code,Message\n\n"
            f"WorkloadName Status StartTime            {'Code':<{len(code)}} Message\n"
            f"------------ ------ ---------            {'----':<{len(code)}} -------\n"
            f"{vm:<12} Failed {c.ts(' ', '')[:19]}  {code} {short}\n"
        )
    w = len(code)
    return (
        "PS C:\\> [pscustomobject]@{Vault=$v.Name; Item=$i.Name; Code=$e.Code; Since=$d}"
        " | ft\n\n"
        f"Vault           Item         {'Code':<{w}} Since\n"
        f"-----           ----         {'----':<{w}} -----\n"
        f"{c.vault():<15} {vm:<12} {code} {c.ts(' ', '')[:10]}\n"
    )


def t_portal(c: Ctx, code: str, msg: str, n: int) -> str:
    """Copies from the Azure portal's job details and notifications."""
    vm, rec = c.vm(), c.rec()
    mline = f"Error message\n{msg}\n" if msg else ""
    k = n % 6
    if k == 0:
        return f"Error code\n{code}\n{mline}Recommended action\n{rec}"
    if k == 1:
        mm = f"Error Message\t{msg}\n" if msg else ""
        return (
            f"Error Code\t{code}\n{mm}Recommended Action\t{rec}\n"
            "Related links\tTroubleshoot Azure virtual machine backup errors"
        )
    if k == 2:
        return (
            f"Backup\n{vm}\nJob details\nVM Name\t{vm}\nActivity ID\t{c.guid()}\n"
            f"Status\tFailed\nStart time\t{c.rng.randint(1, 12)}/{c.rng.randint(1, 28)}/2024, "
            f"{c.rng.randint(1, 12)}:{c.rng.randint(10, 59)}:{c.rng.randint(10, 59)} AM\n"
            f"Duration\t00:{c.rng.randint(10, 59)}:{c.rng.randint(10, 59)}\n\n"
            f"Error details\nError Code\n{code}\n{mline}Recommended action\n{rec}\n"
            "More information"
        )
    if k == 3:
        tail = f" Error message: {msg}" if msg else ""
        return (
            f"Failed to trigger backup\nTriggering backup for '{vm}' failed. "
            f"Error code: {code}.{tail}\n{c.rng.randint(1, 59)} minutes ago"
        )
    if k == 4:
        return (
            "Datasource name\tOperation\tStatus\tStart time\tDuration\tError code\n"
            f"{vm}\tBackup\tFailed\t{c.rng.randint(1, 12)}/{c.rng.randint(1, 28)}/2024, "
            f"2:{c.rng.randint(10, 59)}:05 AM\t00:0{c.rng.randint(1, 9)}:12\t{code}"
        )
    return (
        f"Restore failed\nItem: {vm}\nRestore point: {c.ts(' ', '')[:16]}\n"
        f"Error Code: {code}\n"
        + (f"Error Message: {msg}\n" if msg else "")
        + f"Recommended Action: {rec}"
    )


def t_log(c: Ctx, code: str, msg: str, n: int) -> str:
    """Log lines with timestamps around the error."""
    vm, v, cv = c.vm(), c.vault(), case_variant(code, n)
    m = msg or "job failed"
    k = n % 6
    if k == 0:
        return (
            f"{c.ts()} INFO  backup-watch polling vault {v}\n"
            f"{c.ts()} INFO  backup-watch 14 jobs since last poll\n"
            f"{c.ts()} ERROR backup-watch job {c.guid()} item={vm} status=Failed "
            f'errorCode={cv} msg="{m}"\n{c.ts()} INFO  backup-watch sleeping 300s'
        )
    if k == 1:
        return (
            f"May 14 01:31:07 jumpbox01 backup-report[2231]: vault={v} item={vm} "
            f"status=Failed code={cv}\n"
            "May 14 01:31:07 jumpbox01 backup-report[2231]: sent summary to #ops-backup"
        )
    if k == 2:
        return (
            f"Log Name:      Application\nSource:        BackupMonitor\nDate:          "
            f"{c.ts(' ', '')[:19]}\nEvent ID:      1001\nLevel:         Error\n"
            f"Computer:      {vm}\nDescription:\nBackup job failed: {cv} - {m}"
        )
    if k == 3:
        return (
            "TimeGenerated,BackupItemFriendlyName,JobStatus,JobFailureCode\n"
            f"{c.ts()},{c.vm()},Completed,\n{c.ts()},{vm},Failed,{cv}\n{c.ts()},{c.vm()},"
            "Completed,"
        )
    if k == 4:
        return (
            f"{c.ts()} ##[section]Starting: Trigger on-demand backup\n"
            f"{c.ts()} az backup protection backup-now -g rg-prod -v {v} -c {vm} -i {vm}\n"
            f"{c.ts()} ##[error]({cv}) {m}\n"
            f"{c.ts()} ##[error]Script failed with exit code: 1"
        )
    return (
        f"{c.ts(' ', '')[:23].replace('.', ',')} ERROR azure_backup_monitor: job failed "
        f"for {vm}: ({cv}) {m}\n"
        f"{c.ts(' ', '')[:23].replace('.', ',')} INFO azure_backup_monitor: next check in 15m"
    )


def t_slack(c: Ctx, code: str, msg: str, n: int) -> str:
    """Slack mrkdwn: bold, quotes, inline code, links, mentions."""
    vm, v = c.vm(), c.vault()
    m = msg or "Backup failed"
    k = n % 6
    if k == 0:
        return (
            f":rotating_light: *Backup failed* for `{vm}`\n> *Error code:* `{code}`\n> {m}\n"
            f"<https://portal.azure.com/#@contoso.onmicrosoft.com/resource{c.vm_id(vm, 'rg-prod')}"
            "/backup|Open in portal> cc <@U04B7KQ2XJ1>"
        )
    if k == 1:
        return (
            f"*{vm}* nightly backup → *Failed*\n• code: `{code}`\n• vault: `{v}`\n"
            f"• started: {c.ts(' ', '')[:16]} UTC"
        )
    if k == 2:
        return (
            f"<!here> backups failing in rg-prod: ~fixed~ _still_ seeing `{code}` on {vm} "
            "and one more box :thinking_face:"
        )
    if k == 3:
        return f">>> Error Code: {code}\nError Message: {m}\n\nanyone? :eyes:"
    if k == 4:
        return (
            f"Azure Backup alert :red_circle:\n*Alert:* Backup failure\n*Item:* {vm}\n"
            f"*Error:* `{code}` — {m}"
        )
    return f"_{c.ts(' ', '')[:16]}_ `{v}` › `{vm}`: *{code}*"


def t_fence(c: Ctx, code: str, msg: str, n: int) -> str:
    """Chat with a fenced block of tool output."""
    vm = c.vm()
    k = n % 5
    if k == 0:
        return f"getting this on {vm}:\n```\n{t_az_cli(c, code, msg, 0)}\n```"
    if k == 1:
        return f"```json\n{t_json_arm(c, code, msg, 0)}\n```\nwhat does this mean?"
    if k == 2:
        m = msg or "The operation failed."
        return (
            "```\nPS C:\\> Backup-AzRecoveryServicesBackupItem -Item $item\n"
            f"Backup-AzRecoveryServicesBackupItem : {code}: {m}\nAt line:1 char:1\n"
            "+ Backup-AzRecoveryServicesBackupItem -Item $item\n"
            "+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
            "    + CategoryInfo          : CloseError: (:) [Backup-AzRecoveryServicesBackupItem],"
            " CloudException\n    + FullyQualifiedErrorId : Microsoft.Azure.Commands."
            "RecoveryServices.Backup.Cmdlets.BackupAzureRmRecoveryServicesBackupItem\n```"
        )
    if k == 3:
        return f"log from the runbook:\n```\n{t_log(c, code, msg, 0)}\n```"
    body = f"Error code: {code}" + (f"\nError message: {msg}" if msg else "")
    return f"```\n{body}\n```\nsame on {vm} and {c.vm()}"


CODE_SHAPES: list[list[tuple[str, Template]]] = [
    [("code", t_code), ("code_in_sentence", t_sentence), ("code_in_sentence", t_sentence)],
    [("json_arm", t_json_arm), ("json_escaped", t_json_escaped)],
    [("az_cli", t_az_cli), ("powershell_list", t_ps_list), ("powershell_table", t_ps_table)],
    [("log", t_log), ("slack_markdown", t_slack), ("code_fence", t_fence), ("portal", t_portal)],
]


# ----- message-only, typo, zh-TW, multi and long templates -----------------------------------


def typo_embed(c: Ctx, bad: str, msg: str, n: int) -> str:
    """A misspelt code in a paste, sometimes with the message."""
    vm = c.vm()
    k = n % 6
    if k == 0:
        return f"backup failing with {bad} on {vm}"
    if k == 1:
        return f"Error code: {bad}" + (f"\nError message: {msg}" if msg else "")
    if k == 2:
        return dumps({"error": _err(bad, msg)})
    if k == 3:
        return f"{c.ts()} ERROR job failed item={vm} code={bad}"
    if k == 4:
        return f"what is {bad}? the backup of {vm} fails with it (typing from my phone)"
    return f"`{bad}` again on *{vm}* :sob:"


def message_embed(c: Ctx, m: str, n: int) -> str:
    """An error message without its code, as pasted or quoted."""
    vm = c.vm()
    k = n % 7
    if k == 0:
        return m
    if k == 1:
        return f"Error: {m}"
    if k == 2:
        return f'backup of {vm} failed: "{m}"'
    if k == 3:
        return f"Error message\n{m}\nRecommended action\n{c.rec()}"
    if k == 4:
        return f"{c.ts()} [ERROR] {vm} backup Failed: {m}"
    if k == 5:
        return f"> {m}\nthat's what the portal says for {vm}, any idea?"
    return f"Hi all, backup job for {vm} failed with\n{m}\nanyone seen this?"


def zh_chat(c: Ctx, code: str, zh: str, n: int) -> str:
    """zh-TW chat mentioning a code, sometimes with the zh-TW message."""
    vm, rg = c.vm(), c.rg()
    paren = f"（{zh}）" if zh else ""
    k = n % 6
    if k == 0:
        return f"各位，{vm} 的備份又失敗了，錯誤碼是 {code}，有人知道怎麼處理嗎？"
    if k == 1:
        return f"昨晚 {rg} 的排程備份失敗：{code}{paren}"
    if k == 2:
        return f"請問備份作業的 {code} 這個錯誤要怎麼解？已經重試兩次了"
    if k == 3:
        return f"**錯誤碼**：{code}\n**錯誤訊息**：{zh or '備份失敗'}"
    if k == 4:
        return f"{vm} 還原失敗，錯誤代碼 {code}，麻煩幫忙看一下 🙏"
    return f"剛剛在入口網站看到 `{code}`，{vm} 的備份作業狀態是失敗"


def zh_message(c: Ctx, zh: str, n: int) -> str:
    """A zh-TW error message without its code."""
    vm = c.vm()
    k = n % 5
    if k == 0:
        return zh
    if k == 1:
        return f"錯誤訊息：{zh}"
    if k == 2:
        return f"{vm} 備份失敗，訊息是「{zh}」，怎麼辦？"
    if k == 3:
        return f"入口網站顯示：{zh}"
    return f"錯誤詳細資料\n錯誤訊息\n{zh}\n建議的動作\n請重試作業。"


def multi_paste(c: Ctx, picks: list[str], msgs: dict[str, str], n: int) -> tuple[str, list[str]]:
    """Several errors in one paste; returns the text and the codes in order of appearance."""
    k = n % 6
    vms = [c.vm() for _ in picks]
    if k == 0:
        rows = "".join(
            f"{c.ts(' ', '')[:19]}  {vm:<16} {p}\n" for vm, p in zip(vms, picks, strict=True)
        )
        rows += f"{c.ts(' ', '')[:19]}  {c.vm():<16} {picks[0]}\n"
        return (
            "TimeGenerated        BackupItem       JobFailureCode\n"
            "-------------        ----------       --------------\n" + rows,
            picks,
        )
    if k == 1:
        lines = "".join(f"• {vm}: `{p}`\n" for vm, p in zip(vms, picks, strict=True))
        return f"morning backup report :sunrise:\n{lines}rest are green", picks
    if k == 2:
        return dumps(
            [
                {
                    "name": c.guid(),
                    "properties": {
                        "entityFriendlyName": vm,
                        "operation": "Backup",
                        "status": "Failed",
                        "errorDetails": [{"errorTitle": p, "errorString": msgs[p]}],
                    },
                }
                for vm, p in zip(vms, picks, strict=True)
            ]
        ), picks
    if k == 3:
        out = [f"{c.ts()} INFO  run started"]
        for vm, p in zip(vms, picks, strict=True):
            out.append(f"{c.ts()} ERROR {vm} failed: {p} - {msgs[p]}")
            out.append(f"{c.ts()} INFO  {c.vm()} completed")
        out.append(f"{c.ts()} ERROR {vms[-1]} retry failed: {picks[-1]} - {msgs[picks[-1]]}")
        return "\n".join(out), picks
    if k == 4:
        blocks = [
            f"Error code\n{p}\nError message\n{msgs[p]}\nRecommended action\n{c.rec()}"
            for p in picks
        ]
        return "first job:\n" + "\n\nnext one:\n".join(blocks), picks
    # A code with its message, then another error given by its message only.
    first, rest = picks[0], [p for p in picks[1:] if p not in TWINS]
    text = f"Error code: {first}\nError message: {msgs[first]}\n"
    text += "".join(f"\nand on {c.vm()} the job says: {msgs[p]}\n" for p in rest)
    return text, [first, *rest]


FILLER = (
    "INFO ExtHandler ExtHandler Processing goal state, incarnation {n}",
    "INFO ExtHandler ExtHandler [HEARTBEAT] Agent WALinuxAgent-2.9.1.1 is running as the goal "
    "state agent [DEBUG HeartbeatCounter: {n};HeartbeatId: {g};DroppedPackets: 0;UpdateGSErrors: 0]",
    "INFO ExtHandler ExtHandler Downloading manifest for Microsoft.Azure.Monitor.AzureMonitorLinuxAgent",
    "INFO ExtHandler ExtHandler Extension status: Microsoft.Azure.Extensions.CustomScript "
    "- success, sequence {n}",
    "INFO Daemon Daemon Azure Linux Agent Version: 2.9.1.1",
    "INFO ExtHandler ExtHandler Checking for agent updates (family: Prod)",
    "INFO ExtHandler ExtHandler Fetching goal state [incarnation {n}]",
    "INFO ExtHandler ExtHandler Wire server endpoint: 168.63.129.16",
    "INFO MonitorHandler ExtHandler Stopped tracking cgroup walinuxagent.service [{g}]",
    "INFO CollectLogsHandler ExtHandler Collected {n} log files",
    "INFO backup-runner job {g} vm=web-{n} status=Completed duration={n}s",
    "DEBUG scheduler tick {n}: 0 jobs due, next run in 900s",
)


def long_paste(c: Ctx, code: str, msg: str, size: int, n: int) -> str:
    """A big log (about size chars) with exactly one error somewhere in it."""
    lines: list[str] = []
    total = 0
    while total < size:
        line = f"{c.ts()} " + c.rng.choice(FILLER).format(n=c.rng.randint(1, 9999), g=c.guid())
        lines.append(line)
        total += len(line) + 1
    at = c.rng.randrange(len(lines) // 4, len(lines) * 3 // 4)
    err = f"{c.ts()} ERROR backup-runner job {c.guid()} vm={c.vm()} status=Failed code={code}"
    if msg and n % 2:
        err += f' message="{msg}"'
    lines[at] = err
    return "\n".join(lines)[:size]


# ----- negatives ---------------------------------------------------------------------------

CHATTER_EN = """did the backup of vm01 fail again?
snapshot extension updated on all prod VMs
who owns rsv-prod-weu? need to change the retention
backups look green this morning :white_check_mark:
I'm restoring erp-db-02 to yesterday 23:00, ETA 40 min
can someone approve my PIM request for the backup contributor role?
moved vm-fin-11 to the new policy, daily at 02:00 with 30 day retention
the VM agent on jumpbox01 is version 2.7, should we upgrade before the patch window?
removed the CanNotDelete lock on rg-prod-weu for the migration, will put it back tonight
restore of sql-prod-01 finished, disks attached to the test VM
anyone know how long instant restore snapshots are kept by default?
on-call handover: nothing open for backup, one ticket about disk encryption
let's move the backup window to 03:00 so it doesn't collide with the ETL
I'll re-run the backup for app-weu-03 after lunch
the storage account for restores is almost full, can I delete the old test restores?
waagent restarted on linux-batch-07, looks healthy now
do we back up the AKS nodes at all or only the PVs?
cross region restore is enabled on rsv-prod-neu now
is soft delete on for the shared vault?
new VMs in rg-web-neu aren't protected yet, I'll add them to the policy
the nightly report shows 212 items protected, 0 failed
thanks for fixing the backup alerts, much quieter now
extension provisioning took ages on vm-web-02 but it finished
I think the vault's immutability setting blocks us from shortening retention
please don't resize dc01 during the backup window
deleting the old restore point collection in AzureBackupRG_westeurope_1 per the runbook
the backup job for rdsh-05 is still running, 2h so far
Monday's restore test passed, documented in the wiki
can we get a cost report for the backup storage per vault?
enhanced policy migration scheduled for Thursday
who turned off the VM rdsh-05? backup will skip it tonight
checking the snapshot tier settings for the premium disks
the agent update rolled out to 40 VMs without issues
Azure Backup center shows everything healthy now
lol the coffee machine has better uptime than our test VMs
standup in 5, anything on backups to report?
I opened a support case about slow restores, case number in the ticket
the DR drill restore took 3h12m, within RTO
is there a way to exclude a data disk from backup?
selective disk backup is enabled for sap-app-02 now
policy assignment for backup auto-enable is in audit mode for now
rebooted vm01 after patching, backup should run at 02:00 as usual
I'll handle the backup alerts tonight, going offline at 22:00 though
the MARS agent on the file server needs an update too
we should document how to cancel a running backup job
can someone check why the restore is still queued?
snapshot consistency is application consistent for the Windows VMs, crash consistent for two Linux ones
we bumped the VM size of erp-db-02 yesterday, no impact on backups expected
backup-fix bot is live in #ops-backup, try it out
the restore point from Sunday is the last good one before the incident
vault diagnostics now go to the central Log Analytics workspace
Please review PR 482: Terraform for the backup policies
backup storage redundancy is GRS for prod, LRS for dev
turning on MFA for the vault's critical operations
keyvault access policy for the backup service was added by the security team last week
how do I find the restore point collection for a VM?
the extension on vm-web-02 shows 'Provisioning succeeded' now
disk snapshots older than 7 days get cleaned up by the automation account
any objections to deleting backup data for the decommissioned VMs?
out today, ping Mia for backup stuff
who is on call this weekend for infra?
the restore to an alternate location worked fine
guest agent on rdsh-05 was stuck, restarted the service and it recovered
looks like the backup job list in the portal is slow today
I love how every incident starts with "did you try turning it off and on again"
trigger an on-demand backup before the upgrade please
the jobs dashboard filter for last 24h seems broken
are file-level restores allowed from the GRS copy?
backups finished by 04:10, all good
the vault alert emails go to the old distribution list, fixing
ok the backup for app-weu-03 went through on the retry
monthly backup review moved to Wednesday
please tag the new VMs with backup=daily so the policy picks them up
retention for the yearly points is 7 years per compliance
the ticket about the failed restore yesterday can be closed, user error on our side
just a heads up, storage maintenance in westeurope this weekend
the CMK rotation happened at noon, backups after that ran fine
how many restore points do we keep for sql-prod-01?
hey, where is the runbook for restoring a domain controller?
the snapshot of the OS disk took 4 minutes, normal
backup pre-check says everything passed for the new VMs
Has anyone tested the cross subscription restore in the sandbox yet?
reminder: don't lock the AzureBackupRG resource groups, the runbook explains why
our backup SLA report for Q2 is done
vm-fin-11 disk was extended to 2 TB, will see tonight if backup is fine
the bot answered with the right fix yesterday, nice
taking the dog out, back in 15
I'm adding a Slack workflow for restore requests""".splitlines()

CHATTER_ZH = """備份今天又失敗了嗎？
vm01 的備份昨晚成功了，感謝
誰可以幫我核准備份參與者的角色申請？
快照延伸模組已經在所有正式環境 VM 上更新
今晚 10 點要做還原演練，請大家留意
rsv-prod-weu 的保留期要改成 30 天
還原 erp-db-02 大概還要 40 分鐘
VM 代理程式版本太舊了，下個維護時段一起升級
我先把 rg-prod 的鎖定移除，遷移完再加回去
今天的備份報表全部綠燈 ✅
有人知道立即還原快照預設保留幾天嗎？
值班交接：備份沒有未結案件
備份時段改到凌晨三點，避免跟 ETL 撞到
新建的 VM 還沒加入備份原則，我等一下處理
跨區域還原已經在 rsv-prod-neu 啟用
虛刪除有開嗎？
儲存體帳戶快滿了，可以刪掉舊的測試還原嗎？
這週末 westeurope 有維護，備份可能會延遲
金鑰保存庫的存取原則上週已經由資安團隊加上去了
午餐後我再重跑 app-weu-03 的備份
災難復原演練的還原花了三小時，符合 RTO
請不要在備份時段調整 dc01 的大小
延伸模組在 vm-web-02 上裝了很久，不過最後成功了
下午的站立會議有備份相關的事要報告嗎？
我今天請假，備份的事情請找 Mia
增強型原則的遷移排在星期四
還原點集合要怎麼找？
磁碟加密金鑰輪替之後，備份都正常
這個 bot 昨天給的解法是對的，讚
週末誰值班？
客體代理程式卡住了，重啟服務之後就好了
備份中心顯示一切正常
麻煩在升級前先觸發一次隨選備份
還原到其他位置測試成功
保存庫的警示信件還寄到舊的群組，我來改""".splitlines()

LOOKALIKES = """pg_basebackup: error: could not initiate base backup: ERROR:  a backup is already in progress
ERROR:  a backup is already in progress HINT:  Run pg_stop_backup() and try again.
Msg 3013, Level 16, State 1, Line 1 BACKUP DATABASE is terminating abnormally.
Msg 3023, Level 16, State 2: Backup, file manipulation operations (such as ALTER DATABASE ADD FILE) and encryption changes on a database must be serialized. Reissue the statement after the current backup or file manipulation operation is completed.
mysqlbackup failed: another backup operation is in progress (lock file /backup/.mysqlbackup.lock exists)
Veeam: Error: Failed to create VM snapshot. Error: CreateSnapshot failed, vmRef vm-1234, timeout 1800000, snapshotName VEEAM BACKUP TEMPORARY SNAPSHOT
Veeam Backup & Replication: Job 'Nightly-VMs' cannot be started: another backup job is currently running for this VM
Processing vm01 Error: Cannot use CBT: Soap fault. A specified parameter was not correct: deviceKey
AWS Backup: Backup job failed. An AWS Backup job is already running for resource arn:aws:ec2:eu-west-1:123456789012:volume/vol-0abc123 (State: FAILED)
An error occurred (LimitExceededException) when calling the StartBackupJob operation: Backup job limit exceeded for this resource
An error occurred (SnapshotCreationPerVolumeRateExceeded) when calling the CreateSnapshot operation: The maximum per volume CreateSnapshot request rate has been exceeded.
The backup operation that started at '2024-05-14T01:00:12.000Z' has failed with following error code '0x807800C5' (There was a failure in preparing the backup image of one of the volumes in the backup set.). Please review the event details for a solution, and then rerun the backup operation once the issue is resolved.
wbadmin: ERROR - Another backup or recovery operation is in progress. Wait for that operation to complete and then try again.
Volume Shadow Copy Service error: Unexpected error calling routine CoCreateInstance. hr = 0x80040154, Class not registered.
VSS: A Volume Shadow Copy Service operation is already in progress. (0x80042316)
velero: backup "daily-20240514" failed: error getting volume snapshotter for volume snapshot location "default": unable to locate VolumeSnapshotter plugin named velero.io/azure
Phase: PartiallyFailed (run `velero backup logs nightly-20240514` for more information)
restic: Fatal: unable to create lock in backend: repository is already locked exclusively by PID 4242 on backup01 by root (UID 0, GID 0)
borg: Failed to create/acquire the lock /srv/borg/repo/lock.exclusive (timeout).
Bacula: Fatal error: Network error with FD during Backup: ERR=Connection reset by peer
Commvault: Error Code: [19:1131] Description: Unable to run the backup job because another backup job is running for the subclient.
GCP: ERROR: (gcloud.compute.disks.snapshot) Could not fetch resource: - Operation rate exceeded for resource 'projects/prod/zones/europe-west1-b/disks/disk-1'. Too frequent operations from the source resource.
Hyper-V: Checkpoint operation for 'VM01' failed. (Virtual machine ID 4A1D...) Could not initiate a checkpoint operation: Element not found. (0x80070490)
vSphere: An error occurred while taking a snapshot: msg.snapshot.error-QUIESCINGERROR
Acronis: Backup failed: Failed to create a volume snapshot. Another snapshot operation is in progress.
rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]
duplicity: Another instance is already running with this archive directory
Oracle RMAN-03009: failure of backup command on ORA_DISK_1 channel at 05/14/2024 01:12:44 ORA-19504: failed to create file
MongoDB: mongodump error: Failed: error connecting to db server: server selection timeout
Elasticsearch: snapshot_in_progress_exception: cannot snapshot while a snapshot deletion is in-progress
etcdctl snapshot save failed: context deadline exceeded
Code: SkuNotAvailable Message: The requested size for resource '/subscriptions/1111/resourceGroups/rg-dev/providers/Microsoft.Compute/virtualMachines/dev01' is currently not available in location 'westeurope' zones '1' for subscription '1111'.
{"error":{"code":"RequestDisallowedByPolicy","message":"Resource 'stgtemp01' was disallowed by policy. Policy identifiers: '[{\\"policyAssignment\\":{\\"name\\":\\"Deny public storage\\"}}]'."}}
(AllocationFailed) Allocation failed. We do not have sufficient capacity for the requested VM size in this region.
Time Machine: The backup was not performed because an error occurred while creating the backup directory.
Windows Server Backup: The backup operation stopped before completing. Detailed error: The specified backup disk cannot be found.
Kasten K10: Action failed: Failed to snapshot volumes: context deadline exceeded
Proxmox: ERROR: Backup of VM 101 failed - VM is locked (backup)""".splitlines()


def negatives(c: Ctx) -> list[dict[str, object]]:
    """Chatter (English and zh-TW) and look-alike errors from other products."""
    rows: list[dict[str, object]] = []
    for kind, lines in (("chatter", CHATTER_EN + CHATTER_ZH), ("lookalike", LOOKALIKES)):
        for line in lines:
            rows.append({"id": f"n{len(rows) + 1:04d}", "text": line, "kind": kind})
    return rows


# ----- assembly ----------------------------------------------------------------------------


def _unquote(cell: str) -> str:
    """Undo TSV quoting, tolerating the one documented unbalanced quote."""
    if cell.startswith('"'):
        cell = cell[1:-1] if cell.endswith('"') and len(cell) > 1 else cell[1:]
        cell = cell.replace('""', '"')
    return cell


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a reference TSV as dicts."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, map(_unquote, ln.split("\t")), strict=False)) for ln in lines[1:]]


@dataclass
class Corpus:
    """Positives being built, with a running id."""

    rows: list[dict[str, object]] = field(default_factory=list)

    def add(
        self, text: str, expect: list[str], shape: str, accept: list[str] | None = None
    ) -> None:
        """Append one positive case."""
        row: dict[str, object] = {
            "id": f"p{len(self.rows) + 1:04d}",
            "text": text,
            "expect": expect,
        }
        if accept:
            row["accept"] = accept
        row["shape"] = shape
        row["lang"] = "zh-TW" if shape.startswith("zh_") else "en"
        self.rows.append(row)


def typo(code: str, codes: list[str], rng: random.Random) -> str:
    """A 1-2 edit misspelling that is still clearly closest to code."""
    keys = "qwertyuiopasdfghjklzxcvbnm"
    for _ in range(500):
        chars = list(code)
        for _ in range(rng.choice((1, 2)) if len(code) > 20 else 1):
            i = rng.randrange(3, len(chars) - 4)
            op = rng.choice(("swap", "drop", "double", "sub"))
            if op == "swap":
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
            elif op == "drop":
                del chars[i]
            elif op == "double":
                chars.insert(i, chars[i])
            else:
                chars[i] = rng.choice(keys)
        cand = "".join(chars)
        mine = Levenshtein.distance(cand.lower(), code.lower())
        others = min(Levenshtein.distance(cand.lower(), o.lower()) for o in codes if o != code)
        if 0 < mine <= 2 and others >= mine + 2:
            return cand
    raise ValueError(code)


def variant(msg: str, rng: random.Random) -> str:
    """Reword a message the way service output differs from the docs."""
    swaps = [
        ("doesn't", "does not"),
        ("isn't", "is not"),
        ("don't", "do not"),
        ("Azure Backup", "the Azure Backup service"),
        ("VM Agent", "VM agent"),
        ("The VM is", "VM is"),
        ("The snapshot operation", "Snapshot operation"),
        ("Snapshot operation", "The snapshot operation"),
        ("the VM", "the virtual machine"),
        ("has reached", "has been reached"),
        ("the key vault", "Key Vault"),
        ("Coordinator", 'Coordinator"'),
    ]
    openings = {"The VM is", "The snapshot operation", "Snapshot operation"}
    out, applied = msg, False
    # Capitalised openings are only swapped at the start of the message.
    for old, new in rng.sample(swaps, len(swaps)):
        if out.startswith(old) if old in openings else old in out:
            out, applied = out.replace(old, new, 1), True
            break
    tails = [
        " Please retry the operation in a few minutes.",
        " For more information, see https://aka.ms/AB-AA4dwtk",
        " If the issue persists, contact Microsoft support.",
        " Refer to https://go.microsoft.com/fwlink/?LinkId=800034 for troubleshooting steps.",
        " Ensure the VM is running and retry the operation.",
    ]
    if not applied or rng.random() < 0.6:
        out = out.rstrip()
        out += ("" if out.endswith(".") else ".") + rng.choice(tails)
    if rng.random() < 0.25 and out[1:2].islower():
        out = out[0].lower() + out[1:]
    return out


# Partials written by hand where the generic rule would drop the distinctive opening (the
# tail alone reads like other products' "another backup operation is in progress").
PARTIAL_OVERRIDES = {
    "UserErrorBackupOperationInProgress": "Unable to initiate backup as another backup operation",
}


def _word(w: str) -> str:
    return w.lower().strip('.,"()')


def partial(msg: str, others: list[str], rng: random.Random) -> str:
    """A contiguous chunk of >= 2/3 of the words that keeps what tells this message apart."""
    words = msg.rstrip(".").split()
    n = len(words)
    for override in PARTIAL_OVERRIDES.values():
        if msg.startswith(override):
            return override
    seen_elsewhere = {_word(w) for o in others for w in o.split()}
    unique = {_word(w) for w in words} - seen_elsewhere
    need = min(2, len(unique))
    keep_end = rng.random() < 0.6
    for keep in range(max(4, -(-n * 2 // 3)), n):
        starts = list(range(n - keep + 1))
        rng.shuffle(starts)
        starts.sort(key=lambda s: (s + keep == n) != keep_end)
        for s in starts:
            chunk_words = words[s : s + keep]
            chunk = " ".join(chunk_words)
            if sum(_word(w) in unique for w in chunk_words) < need:
                continue
            if not any(chunk.lower() in o.lower() for o in others):
                return chunk
    return " ".join(words)


def build(ref: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Both corpora: positives and negatives."""
    rng = random.Random(SEED)
    ctx = Ctx(rng)
    current = read_tsv(ref / "error-codes.tsv")
    history = read_tsv(ref / "error-codes-history.tsv")
    messages: dict[str, list[str]] = {}
    for r in current:
        messages.setdefault(r["code"], []).append(r["english_message"])
    codes = list(messages)
    assert len(codes) == 48, len(codes)
    out = Corpus()

    def accept_for(code: str, msg: str) -> list[str]:
        if code == "BackUpOperationFailed" and not msg.lower().startswith(INTERNAL_ERROR):
            return []
        return TWINS.get(code, []) if code != "BackUpOperationFailedV2" else []

    for i, code in enumerate(codes):
        msg = "" if code in NO_MESSAGE else messages[code][0]
        for k, group in enumerate(CODE_SHAPES):
            shape, make = group[(i + k) % len(group)]
            out.add(make(ctx, code, msg, i + k), [code], shape)
        if i % 2 == 0:
            out.add(zh_chat(ctx, code, ZH_MESSAGES.get(code, ""), i // 2), [code], "zh_chat")
        bad = typo(code, codes, rng)
        out.add(typo_embed(ctx, bad, msg if i % 3 == 0 else "", i), [code], "typo_code")
        if code in NO_MESSAGE:
            continue
        for m in messages[code]:
            # V2 shares BackUpOperationFailed's internal-error message: only its own one here.
            if code == "BackUpOperationFailedV2" and m.lower().startswith(INTERNAL_ERROR):
                continue
            out.add(message_embed(ctx, m, i), [code], "message_full", accept_for(code, m))
            out.add(
                message_embed(ctx, variant(m, rng), i + 3),
                [code],
                "message_variant",
                accept_for(code, m),
            )
            if i % 3 != 2 or code.startswith("UserErrorCrossSubscription"):
                others = [
                    x
                    for o, ms in messages.items()
                    if o != code and o not in TWINS.get(code, [])
                    for x in ms
                ]
                out.add(
                    message_embed(ctx, partial(m, others, rng) + " ...", i + 5),
                    [code],
                    "message_partial",
                    accept_for(code, m),
                )
    for j, (code, zh) in enumerate(ZH_MESSAGES.items()):
        acc = accept_for(code, INTERNAL_ERROR)
        for extra in range(2 if j % 3 == 0 else 1):
            out.add(zh_message(ctx, zh, j + extra), [code], "zh_message", acc)
    out.add(
        zh_chat(ctx, "BackUpOperationFailedV2", ZH_MESSAGES["BackUpOperationFailed"], 1),
        ["BackUpOperationFailedV2"],
        "zh_chat",
    )
    for j, r in enumerate(history):
        code, m = r["code"], r["english_message"]
        canon = OLD_CODES.get(code, code)
        if not code or m in messages.get(canon, []):
            continue
        out.add(message_embed(ctx, m, j), [canon], "message_old", accept_for(canon, m))
    for j, (old, canon) in enumerate(OLD_CODES.items()):
        msg = messages[canon][0]
        out.add(t_portal(ctx, old, msg, j), [canon], "portal")
        out.add(t_sentence(ctx, old, msg, j + 1), [canon], "code_in_sentence")
    pool = [c for c in codes if c not in NO_MESSAGE]
    for j in range(18):
        picks = rng.sample(pool, rng.choice((2, 2, 3, 3, 4)))
        text, order = multi_paste(ctx, picks, {c: messages[c][0] for c in picks}, j)
        out.add(text, order, "multi")
    for j, size in enumerate((11_000, 16_000, 24_000, 33_000, 47_000, 62_000)):
        code = codes[(j * 7 + 3) % len(codes)]
        msg = "" if code in NO_MESSAGE else messages[code][0]
        out.add(long_paste(ctx, code, msg, size, j), [code], "long_paste")
    return out.rows, negatives(ctx)


def main() -> None:
    """Write positives.jsonl and negatives.jsonl next to this script."""
    ref = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[1] / "data" / "reference" / "azure-docs"
    )
    pos, neg = build(ref)
    for name, rows in (("positives.jsonl", pos), ("negatives.jsonl", neg)):
        with (HERE / name).open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    print(f"{len(pos)} positives, {len(neg)} negatives")


if __name__ == "__main__":
    main()
