"""What a paste says about where it comes from: Azure Backup context, and which workload.

Context lets weak evidence answer unasked (a generic code, a bare id, a symptom); the workload
breaks ties between entries of different workloads that document the same words. Both are read
with one pass of a regular expression over the lower-cased paste.
"""

from __future__ import annotations

import re

# Azure Backup, its vaults, agents and resources ("LastBackupFailedFiles" counts: it is a name).
_BACKUP = re.compile(
    r"backup|vault|recoveryservice|recovery services|dataprotection|iaasvm|vmsnapshot"
    r"|obengine|cbengine|\bmars\b|\bdpm\b|\bmabs\b|備份|保存庫|復原服務"
)
# Weaker: a job, a restore, an Azure resource id. Enough to back a symptom, not a bare id.
_SUPPORT = re.compile(r"\bjobs?\b|\brestor|/subscriptions/|還原|作業")

# Words that name a workload. Weights: 2 names it, 1 hints at it (AzureWorkload is SQL and SAP).
_WORKLOADS: tuple[tuple[str, str, int], ...] = (
    ("sql", r"\b(?:ms)?sql(?:server|database|db)?\b|\bsql server\b|\bmssqlserver\b", 2),
    ("sql", r"\bazureworkload(?:sql)?\b|\bsqldatabase\b", 1),
    ("sap-hana", r"\bhana\b|saphana|\bhdbsql\b|\bbackint\b|hdbuserstore|\bhdb\b", 2),
    ("sap-hana", r"\bazureworkload\b", 1),
    ("sap-ase", r"\bsap ase\b|sapase|\bsybase\b", 2),
    ("sap-ase", r"\bazureworkload\b", 1),
    ("mars", r"\bmars\b|obengine|cbengine|recovery services agent|marsagent", 2),
    ("mabs-dpm", r"\bdpm\b|\bmabs\b|data protection manager|azure backup server|dpmra", 2),
    ("system-state", r"system state|systemstate|\bwbadmin\b|windows server backup", 2),
    ("azure-files", r"file ?shares?\b|\bafs\b|azure files|azurefileshare|azurestorage\b", 2),
    ("blob", r"\bblobs?\b", 2),
    ("blob", r"\bcontainers?\b|storage account", 1),
    ("azure-files", r"storage account", 1),
    ("adls", r"\badls\b|data ?lake|hierarchical namespace", 2),
    ("disk", r"disk backup|snapshot (?:rg|resource group)|snapshotrg|azuredisk", 2),
    ("disk", r"managed disks?\b", 1),
    ("aks", r"\baks\b|kubernetes|\bkubectl\b|\bpvcs?\b|persistent volume", 2),
    ("aks", r"\bvelero\b", 1),  # other clouds run Velero too: a hint, never enough alone
    ("postgresql", r"postgres|\bpsql\b|\bpg_dump\b", 2),
    ("mysql", r"mysql", 2),
    ("vm", r"iaasvm|vmsnapshot|\bwaagent\b|guest agent|vm agent", 1),
)
_WORKLOAD_RE = re.compile("|".join(f"(?P<w{i}>{rx})" for i, (_, rx, _) in enumerate(_WORKLOADS)))


def backup_context(low: str) -> bool:
    """True when the lower-cased paste speaks of Azure Backup (backup, a vault, an agent...)."""
    return _BACKUP.search(low) is not None


def supported(low: str) -> bool:
    """True when the paste speaks of a job, a restore or an Azure resource (weaker context)."""
    return _SUPPORT.search(low) is not None


def workloads(low: str) -> frozenset[str]:
    """The workloads the paste names most strongly (empty when it names none)."""
    score: dict[str, int] = {}
    for m in _WORKLOAD_RE.finditer(low):
        for name, value in m.groupdict().items():
            if value is not None:
                workload, _, weight = _WORKLOADS[int(name[1:])]
                score[workload] = score.get(workload, 0) + weight
                # One phrase may name several workloads ("storage account"): count each.
                for other, rx, w in _WORKLOADS:
                    if other != workload and re.fullmatch(rx, value):
                        score[other] = score.get(other, 0) + w
                break
    if not score:
        return frozenset()
    best = max(score.values())
    return frozenset(w for w, s in score.items() if s == best)
