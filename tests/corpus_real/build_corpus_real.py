"""Write positives.jsonl and negatives.jsonl of the recognition corpus (deterministic).

Hand-written cases come from written.txt; the code-bearing shapes (az JSON, Format-List,
Terraform boxes, truncated codes, buried messages, several errors in one paste, chat) are
built here from a fixed list of picks. Verbatim documented messages are read from
reference.tsv and used only for the buried and multi shapes. Run from the repository root:

    .venv/bin/python tests/corpus_real/build_corpus_real.py
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
LEARN = "https://learn.microsoft.com/azure/backup/"
ARTICLES = {
    "snap": "backup-azure-troubleshoot-vm-backup-fails-snapshot-timeout",
    "vms": "backup-azure-vms-troubleshoot",
    "sql": "backup-sql-server-azure-troubleshoot",
    "hana": "backup-azure-sap-hana-database-troubleshoot",
    "hanasnap": "sap-hana-database-instance-troubleshoot",
    "ase": "troubleshoot-sap-ase-sybase-database-backup",
    "files": "troubleshoot-azure-files",
    "mars": "backup-azure-mars-troubleshoot",
    "mabs": "backup-azure-mabs-troubleshoot",
    "sysstate": "backup-azure-system-state-troubleshoot",
    "blob": "backup-azure-troubleshoot-blob-backup",
    "adls": "azure-data-lake-storage-backup-troubleshoot",
    "disk": "disk-backup-troubleshoot",
    "aks": "azure-kubernetes-service-backup-troubleshoot",
    "pg": "backup-azure-database-postgresql-troubleshoot",
    "pgflex": "backup-azure-database-postgresql-flex-troubleshoot",
    "mysql": "backup-azure-mysql-flexible-server-troubleshoot",
    "bv": "backup-vault-troubleshoot",
    "bvid": "backup-azure-backup-vault-troubleshoot",
    "cmk": "encryption-at-rest-with-cmk-for-backup-vault",
    "enc": "backup-azure-encrypted-vm-troubleshoot",
    "ilr": "backup-azure-vm-file-recovery-troubleshoot",
    "arch": "troubleshoot-archive-tier",
}
ARM_DOC = "https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/"
KINDS = {"ci": "ci_log", "azure-chatter": "azure_chatter", "other": "chatter"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def reference() -> dict[str, str]:
    """Code -> first documented message (may be empty), from reference.tsv."""
    lines = [x for x in (HERE / "reference.tsv").read_text("utf-8").splitlines()]
    rows = csv.reader((x for x in lines if not x.startswith("#")), delimiter="\t")
    next(rows)
    out: dict[str, str] = {}
    for code, message, *_ in rows:
        if message and code not in out:
            out[code] = message
        out.setdefault(code, "")
    return out


def source(key: str, code: str) -> str:
    if key.startswith("http"):
        return key
    if key == "arm":
        return ARM_DOC + "common-deployment-errors"
    base, _, anchor = key.partition("#")
    return f"{LEARN}{ARTICLES[base]}#{anchor or code.lower()}"


def lang_of(text: str, shape: str) -> str:
    if not CJK.search(text):
        return "en"
    return "mixed" if re.search(r"[A-Za-z]{4}", text) else "zh-TW"


def written() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Parse written.txt into positives (with unknowns) and negatives."""
    pos: list[dict[str, object]] = []
    neg: list[dict[str, object]] = []
    blocks = re.split(r"^### ", (HERE / "written.txt").read_text("utf-8"), flags=re.M)[1:]
    for block in blocks:
        header, _, text = block.partition("\n")
        workload, shape, expect, accept, src = (x.strip() for x in header.split("|"))
        text = text.strip("\n")
        if workload == "negative":
            product = expect
            neg.append(
                {
                    "text": text,
                    "kind": KINDS.get(product, "other_product"),
                    "product": product,
                    "lang": "zh-TW" if CJK.search(text) else "en",
                    "source": src,
                }
            )
            continue
        case: dict[str, object] = {"text": text, "shape": shape, "workload": workload}
        if expect.startswith("?"):
            case["expect"] = []
            case["unknown"] = [expect[1:]]
        else:
            case["expect"] = expect.split(",")
        if accept != "-":
            case["accept"] = accept.split(",")
        first = expect.lstrip("?").split(",")[0]
        case["source"] = source(src, first)
        case["lang"] = lang_of(text, shape)
        pos.append(case)
    return pos, neg


# (code, workload, article key, item) for the generated shapes.
PICKS = [
    ("UserErrorGuestAgentStatusUnavailable", "vm", "snap", "vm-web-01"),
    ("ExtensionSnapshotFailedNoNetwork", "vm", "snap", "vm-app-02"),
    ("UserErrorFsFreezeFailed", "vm", "vms", "lnx-db-03"),
    ("ExtensionFailedVssWriterInBadState", "vm", "vms", "sql-vm-04"),
    ("UserErrorRpCollectionLimitReached", "vm", "snap", "vm-fs-05"),
    ("UserErrorBackupOperationInProgress", "vm", "snap", "vm-bi-06"),
    ("UserErrorSQLLSNValidationFailure", "sql", "sql", "sqlvm01;MSSQLSERVER;SalesDB"),
    ("UserErrorOpeningSQLConnection", "sql", "sql", "sqlvm02;MSSQLSERVER;HR"),
    ("UserErrorBackupFailedAsTransactionLogIsFull", "sql", "sql", "sqlvm03;SQL2019;Orders"),
    ("UserErrorSQLNoSysadminMembership", "sql", "sql", "sqlvm04"),
    ("UserErrorHANALSNValidationFailure", "sap-hana", "hana", "hanavm01;H01;SYSTEMDB"),
    ("UserErrorInOpeningHanaOdbcConnection", "sap-hana", "hana", "hanavm02;H02;TENANT1"),
    ("UserErrorInsufficientPrivilegeOfDatabaseUser", "sap-hana", "hana", "hanavm03;H03"),
    ("UserErrorVMIdentityRequiresReadDisksRole", "sap-hana", "hanasnap", "hanavm04"),
    ("ASEBackupServerNotRunning", "sap-ase", "ase", "asevm01;SYB"),
    ("DatabaseBackupOperationFailed", "sap-ase", "ase", "asevm02;SYB;ERP"),
    ("UserErrorStorageAccountIsLocked", "azure-files", "files", "stfiles01/share01"),
    ("AFSMaxSnapshotReached", "azure-files", "files", "stfiles02/profiles"),
    ("UserErrorFileShareEndpointUnreachable", "azure-files", "files", "stfiles03/data"),
    ("SalLowDiskSpace", "mars", "mars", "FS01"),
    ("SalChecksumStoreInitializationFailed", "mars", "mars", "FS02"),
    ("CBPSourceSnapshotFailedReplicaMetadataInvalid", "mabs-dpm", "mabs", "MABS01"),
    ("CBPSourceSnapshotFailedReplicaCloningIssue", "mabs-dpm", "mabs", "MABS02"),
    ("0x800423f2", "system-state", "sysstate", "DC01 System State"),
    ("UserErrorPitrDisabledOnStorageAccount", "blob", "blob", "stblob01"),
    ("UserErrorImmutabilityPolicyConfigured", "blob", "blob", "stblob02"),
    ("UserErrorBackupRequestThrottled", "adls", "adls", "stlake01"),
    ("UserErrorIncorrectContainersSelectedForOperation", "adls", "adls", "stlake02"),
    ("UserErrorDiskBackupSnapshotRGOrMSIPermissionsNotPresent", "disk", "disk", "disk-data-01"),
    ("UserErrorSubscriptionDiskQuotaLimitReached", "disk", "disk", "disk-os-02"),
    ("UserErrorKubernetesBackupExtensionHasErrors", "aks", "aks", "aks-prod-01"),
    ("UserErrorExtensionMSIMissingPermissionsOnBackupStorageLocation", "aks", "aks", "aks-01"),
    ("UserErrorMissingPermissionsOnSecretStore", "postgresql", "pg", "pg-single-01"),
    ("PostgreSQLFlexOperationFailedUserError", "postgresql", "pgflex", "pgflex-01"),
    ("MySQLFlexOperationFailedUserError", "mysql", "mysql", "mysqlflex-01"),
    ("UserErrorCMKKeyVaultAuthFailure", "vault", "cmk", "bv-prod"),
    ("BackupVaultMoveResourcesCriticalFailure", "vault", "bv", "bv-move"),
    ("UserErrorCrossSubscriptionRestoreInvalidTargetSubscription", "restore", "vms", "vm-rst"),
    ("UserErrorInstantRpNotFound", "restore", "vms", "vm-rst-02"),
    ("UserErrorRequestDisallowedByPolicy", "policy", "vms", "vm-pol-01"),
    ("UserErrorRecoveryPointRehydrationNotAllowed", "archive", "arch", "vm-arch-01"),
    ("UserErrorRecoveryPointIsNotEligibleForArchiveMove", "archive", "arch", "sqlvm-arch"),
    ("UserErrorEncryptedVmNotSupportedWithDiskEx", "encrypted-vm", "enc", "vm-ade-01"),
    ("BCMProtGetSaSUriAsyncError", "encrypted-vm", "enc", "vm-ade-02"),
    ("ScopeLocked", "arm", "arm", "rsv-prod"),
    ("AuthorizationFailed", "arm", "arm", "rsv-ops"),
]


def az_json(code: str, item: str, rng: random.Random) -> str:
    num = rng.randint(100000, 999999)
    return json.dumps(
        {
            "name": f"{rng.getrandbits(32):08x}-0c1d-4e2f-9a3b-{rng.getrandbits(48):012x}",
            "properties": {
                "entityFriendlyName": item,
                "operation": rng.choice(["Backup", "Restore", "ConfigureBackup"]),
                "status": "Failed",
                "errorDetails": [
                    {
                        "errorCode": num,
                        "errorString": f"The operation on {item} did not complete.",
                        "errorTitle": code,
                        "recommendations": ["Check the error code and retry."],
                    }
                ],
            },
        },
        indent=2,
    )


def powershell_list(code: str, item: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return (
            "PS C:\\> $Error[0].Exception.Body | Format-List\n\n"
            f"Code    : {code}\nMessage : The request for {item} failed, see the code.\n"
            "Target  :\nDetails : {}\n"
        )
    return (
        "PS C:\\> $job | Format-List\n\n"
        f"WorkloadName  : {item}\nOperation     : Backup\nStatus        : Failed\n"
        f"StartTime     : 6/2/2024 1:00:14 AM\nEndTime       : 6/2/2024 1:31:40 AM\n"
        f"Duration      : 00:31:26\nErrorDetails  : {{{code}}}\n"
    )


def wrapped(code: str, item: str) -> str:
    for pad in range(0, 80):
        line = (
            f"Error: waiting for the backup operation on {item}"
            + "-" * pad
            + f": unexpected status 400 with error: {code}: the request could not be completed"
        )
        chunks = [line[i : i + 76] for i in range(0, len(line), 76)]
        text = "╷\n" + "\n".join("│ " + c for c in chunks) + "\n╵"
        if code not in text:
            return text
    raise ValueError(code)


def truncated(code: str, item: str, codes: list[str]) -> str:
    for keep in range(16, len(code)):
        prefix = code[:keep]
        if sum(c.lower().startswith(prefix.lower()) for c in codes) == 1 and keep < len(code):
            break
    else:
        raise ValueError(code)
    keep = max(keep, min(len(code) - 3, keep + 4))
    return (
        f"2024-06-02T01:31:40.112Z ERROR [jobmgr] job for {item} finished: Failed "
        f"errorCode={code[:keep]}"
    )


NEAR_MISS = [
    "WARN  retry 1/3: snapshot status not yet available, will poll again in 60s",
    "WARN  transient: the operation timed out, retrying",
    "INFO  previous attempt failed, retrying in 30 seconds",
    "WARN  retry 2/3: could not reach the service endpoint, backing off",
    "INFO  heartbeat ok, extension status transitioning",
    "WARN  retry 3/3: request throttled (429), waiting",
]


def buried(message: str, item: str, rng: random.Random) -> str:
    lines = []
    for i in range(rng.randint(120, 400)):
        sec = i % 60
        kind = rng.random()
        if kind < 0.08:
            body = rng.choice(NEAR_MISS)
        else:
            body = f"INFO  [worker-{i % 7}] processed block {i * 4096:#x} for {item}"
        lines.append(f"2024-06-02 01:{i // 60 % 60:02d}:{sec:02d} {body}")
    lines += [rng.choice(NEAR_MISS) for _ in range(3)]
    lines.append(f"2024-06-02 03:59:59 ERROR job failed: {message}")
    return "\n".join(lines)


def generated(ref: dict[str, str]) -> list[dict[str, object]]:
    rng = random.Random(20240602)
    codes = sorted(ref)
    out: list[dict[str, object]] = []

    def add(shape: str, text: str, expect: list[str], workload: str, src: str) -> None:
        out.append(
            {
                "text": text,
                "expect": expect,
                "shape": shape,
                "workload": workload,
                "source": source(src, expect[0]),
                "lang": lang_of(text, shape),
            }
        )

    for i, (code, workload, src, item) in enumerate(PICKS):
        add("az_json", az_json(code, item, rng), [code], workload, src)
        add("powershell_list", powershell_list(code, item, rng), [code], workload, src)
        if i % 3 != 2:
            add("wrapped", wrapped(code, item), [code], workload, src)
        if len(code) >= 20 and i % 2 == 0:
            add("truncated", truncated(code, item, codes), [code], workload, src)
        chat = rng.choice(
            [
                f"getting {code} on {item} since last night, anyone seen this?",
                f"`{code}` again for {item} :( second time this week",
                f"{item} 的備份失敗，錯誤碼 {code}，請問怎麼處理？",
                f"Alert fired: backup job for {item} failed - {code}",
            ]
        )
        add("chat_code", chat, [code], workload, src)
        if ref.get(code) and len(ref[code].split()) >= 6 and i % 2 == 1:
            add("buried", buried(ref[code], item, rng), [code], workload, src)
    with_msg = [p for p in PICKS if len(ref.get(p[0], "").split()) >= 6]
    for i in range(18):
        a, b = with_msg[i % len(with_msg)], with_msg[(i * 7 + 3) % len(with_msg)]
        if a[0] == b[0]:
            b = with_msg[(i + 1) % len(with_msg)]
        if i % 2:
            text = f"two problems tonight:\n1) {a[3]}: {a[0]}\n2) {b[3]} failed with: {ref[b[0]]}"
        else:
            text = (
                "Name            Status   ErrorCode\n"
                f"{a[3]:<15} Failed   {a[0]}\n{b[3]:<15} Failed   {b[0]}\n"
            )
        add("multi", text, [a[0], b[0]], a[1], a[2])
    return out


def main() -> None:
    ref = reference()
    pos, neg = written()
    pos += generated(ref)
    for i, case in enumerate(pos, 1):
        case["id"] = f"r{i:04d}"
    for i, case in enumerate(neg, 1):
        case["id"] = f"rn{i:04d}"
    for name, cases in (("positives.jsonl", pos), ("negatives.jsonl", neg)):
        with (HERE / name).open("w", encoding="utf-8") as f:
            for case in cases:
                ordered = {"id": case.pop("id"), **case}
                f.write(json.dumps(ordered, ensure_ascii=False) + "\n")
    print(len(pos), "positives,", len(neg), "negatives")


if __name__ == "__main__":
    main()
