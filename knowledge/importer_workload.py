"""The workload a troubleshooting article is about, for ``kb import`` drafts without ``--workload``.

First the article's slug (its file name on Microsoft Learn), then words of its title; "vm" when
neither says (the articles this bot started from are the VM ones).
"""

from __future__ import annotations

import re
from typing import Any

SLUGS: dict[str, str] = {
    "backup-azure-vms-troubleshoot": "vm",
    "backup-azure-troubleshoot-vm-backup-fails-snapshot-timeout": "vm",
    "backup-azure-encrypted-vm-troubleshoot": "vm",
    "backup-azure-vm-file-recovery-troubleshoot": "restore",
    "backup-sql-server-azure-troubleshoot": "sql",
    "backup-azure-sap-hana-database-troubleshoot": "sap-hana",
    "sap-hana-database-instance-troubleshoot": "sap-hana",
    "troubleshoot-sap-ase-sybase-database-backup": "sap-ase",
    "troubleshoot-azure-files": "azure-files",
    "backup-azure-mars-troubleshoot": "mars",
    "backup-azure-system-state-troubleshoot": "mars",
    "backup-azure-mabs-troubleshoot": "mabs-dpm",
    "backup-azure-scdpm-troubleshooting": "mabs-dpm",
    "backup-azure-alternate-dpm-server-troubleshoot": "mabs-dpm",
    "backup-azure-troubleshoot-blob-backup": "blob",
    "azure-data-lake-storage-backup-troubleshoot": "adls",
    "disk-backup-troubleshoot": "disk",
    "azure-kubernetes-service-backup-troubleshoot": "aks",
    "backup-azure-database-postgresql-troubleshoot": "postgresql",
    "backup-azure-database-postgresql-flex-troubleshoot": "postgresql",
    "backup-azure-mysql-flexible-server-troubleshoot": "mysql",
    "backup-vault-troubleshoot": "vault",
    "backup-azure-backup-vault-troubleshoot": "vault",
    "encryption-at-rest-with-cmk-for-backup-vault": "vault",
    "troubleshoot-archive-tier": "generic",
}

# Title words, most specific first ("SAP HANA" before "database", "Data Lake" before "blob").
_TITLES: list[tuple[str, str]] = [
    (r"sap hana", "sap-hana"),
    (r"sap ase|sybase", "sap-ase"),
    (r"sql server", "sql"),
    (r"postgre", "postgresql"),
    (r"mysql", "mysql"),
    (r"kubernetes|\baks\b", "aks"),
    (r"data lake", "adls"),
    (r"\bblobs?\b", "blob"),
    (r"azure files|file share", "azure-files"),
    (r"\bdisks?\b", "disk"),
    (r"system state", "mars"),
    (r"\bmars\b|recovery services agent|backup agent", "mars"),
    (r"backup server|\bmabs\b|\bdpm\b", "mabs-dpm"),
    (r"archive", "generic"),
    (r"backup vault", "vault"),
    (r"file recovery", "restore"),
    (r"\bvms?\b|virtual machine", "vm"),
]


def infer_workload(meta: dict[str, Any], slug: str | None) -> str:
    """The workload of an article from its slug, else its front matter's title, else "vm"."""
    if slug is not None and (workload := SLUGS.get(slug.split("__")[0])):
        return workload
    title = str(meta.get("title") or "").casefold()
    return next((w for pattern, w in _TITLES if re.search(pattern, title)), "vm")
