"""What a paste says about where it comes from: Azure Backup context, and which workload.

Context lets weak evidence answer unasked (a generic code, a bare id, a symptom); the workload
breaks ties between entries of different workloads that document the same words (read only when
readings compete).
"""

from __future__ import annotations

import re

# Azure Backup, its vaults, agents and resources ("LastBackupFailedFiles" counts: it is a name).
# Plain substring tests first: this runs on every chat line.
_BACKUP_PARTS = (
    *("backup", "vault", "recoveryservice", "recovery services", "dataprotection", "iaasvm"),
    *("vmsnapshot", "obengine", "cbengine", "備份", "保存庫", "復原服務"),
)
_BACKUP_WORDS = re.compile(r"\b(?:mars|dpm|mabs|rsv)\b")  # rsv-prod: a vault by its usual name
# Weaker: a job, a restore, an Azure resource id. Enough to back a symptom, not a bare id.
_SUPPORT_PARTS = ("restor", "/subscriptions/", "還原", "作業")
_SUPPORT_WORDS = re.compile(r"\bjobs?\b")

# Words that name a workload, with a weight: 2 names it, 1 hints at it (AzureWorkload is the
# backup management type of SQL and SAP alike; Velero runs on other clouds too). A workload counts
# once however often it is named. Words are looked up in a set, names and phrases by substring.
_SQL, _HANA, _ASE, _MARS, _DPM = "sql", "sap-hana", "sap-ase", "mars", "mabs-dpm"
_Named = tuple[tuple[str, int], ...]
_WORDS: dict[str, _Named] = {
    **dict.fromkeys(("sql", "mssql", "sqlserver", "tsql"), ((_SQL, 2),)),
    **dict.fromkeys(("sqldatabase", "sqldb"), ((_SQL, 1),)),
    "azureworkload": ((_SQL, 1), (_HANA, 1), (_ASE, 1)),
    **dict.fromkeys(("hana", "hdbsql", "backint", "hdb", "hdbbackint"), ((_HANA, 2),)),
    "sybase": ((_ASE, 2),),
    **dict.fromkeys(("mars", "marsagent"), ((_MARS, 2),)),
    **dict.fromkeys(("dpm", "mabs", "dpmra"), ((_DPM, 2),)),
    **dict.fromkeys(("wbadmin", "systemstate"), (("system-state", 2),)),
    **dict.fromkeys(("afs", "fileshare", "fileshares", "azurefileshare"), (("azure-files", 2),)),
    **dict.fromkeys(("blob", "blobs"), (("blob", 2),)),
    **dict.fromkeys(("container", "containers"), (("blob", 1),)),
    **dict.fromkeys(("adls", "datalake", "adlsgen2"), (("adls", 2),)),
    **dict.fromkeys(("snapshotrg", "azuredisk"), (("disk", 2),)),
    **dict.fromkeys(("aks", "kubernetes", "kubectl", "pvc", "pvcs"), (("aks", 2),)),
    "velero": (("aks", 1),),
    **dict.fromkeys(("postgres", "postgresql", "psql", "pg_dump"), (("postgresql", 2),)),
    "mysql": (("mysql", 2),),
    **dict.fromkeys(
        ("iaasvm", "azureiaasvm", "vmsnapshot", "vmsnapshotlinux", "waagent"), (("vm", 1),)
    ),
}
_PARTS: tuple[tuple[str, _Named], ...] = (
    ("mssqlserver", ((_SQL, 2),)),
    ("sql server", ((_SQL, 2),)),
    ("saphana", ((_HANA, 2),)),
    ("hdbuserstore", ((_HANA, 2),)),
    ("sap ase", ((_ASE, 2),)),
    ("sapase", ((_ASE, 2),)),
    ("obengine", ((_MARS, 2),)),
    ("cbengine", ((_MARS, 2),)),
    ("recovery services agent", ((_MARS, 2),)),
    ("data protection manager", ((_DPM, 2),)),
    ("azure backup server", ((_DPM, 2),)),
    ("system state", (("system-state", 2),)),
    ("windows server backup", (("system-state", 2),)),
    ("file share", (("azure-files", 2),)),
    ("azure files", (("azure-files", 2),)),
    ("storage account", (("blob", 1), ("azure-files", 1), ("adls", 1))),
    ("data lake", (("adls", 2),)),
    ("hierarchical namespace", (("adls", 2),)),
    ("disk backup", (("disk", 2),)),
    ("disk restore", (("disk", 2),)),
    ("snapshot rg", (("disk", 2),)),
    ("snapshot resource group", (("disk", 2),)),
    ("managed disk", (("disk", 1),)),
    ("persistent volume", (("aks", 2),)),
    ("postgres", (("postgresql", 2),)),
    ("mysql", (("mysql", 2),)),
    ("guest agent", (("vm", 1),)),
    ("vm agent", (("vm", 1),)),
)
_WORD = re.compile(r"[a-z0-9_]+")


def backup_context(low: str) -> bool:
    """True when the lower-cased paste speaks of Azure Backup (backup, a vault, an agent...)."""
    return any(p in low for p in _BACKUP_PARTS) or _BACKUP_WORDS.search(low) is not None


def supported(low: str) -> bool:
    """True when the paste speaks of a job, a restore or an Azure resource id (weaker context)."""
    return any(p in low for p in _SUPPORT_PARTS) or _SUPPORT_WORDS.search(low) is not None


def workloads(low: str, *, named: bool = False) -> frozenset[str]:
    """The workloads the lower-cased paste names most strongly (empty when it names none);
    ``named``: only those it names outright, not the ones it merely hints at."""
    found: dict[str, _Named] = {}
    for word in set(_WORD.findall(low)) & _WORDS.keys():
        found[word] = _WORDS[word]
    for part, names in _PARTS:
        if part in low:
            found[part] = names
    score: dict[str, int] = {}
    for names in found.values():
        for workload, weight in names:
            score[workload] = max(score.get(workload, 0), weight)  # once per workload
    if not score:
        return frozenset()
    best = max(score.values())
    if named and best < 2:
        return frozenset()
    return frozenset(w for w, s in score.items() if s == best)
