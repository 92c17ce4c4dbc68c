"""The stable action names of the outside interface (CONTRACT.md), with what each one does.

Pure data: no Azure and no Slack imports, so the knowledge base can check the actions its entries
offer without pulling either in.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

DiagnosticName = Literal[
    "vm_agent_status",
    "job_details",
    "protection_status",
    "restore_points",
    "locks",
]
RemediationName = Literal[
    "trigger_backup",
    "cancel_job",
    "remove_snapshot_extension",
    "remove_rg_lock",
    "delete_restore_point_collection",
    "resume_protection",
]

DIAGNOSTICS: Final[tuple[str, ...]] = get_args(DiagnosticName)
REMEDIATIONS: Final[tuple[str, ...]] = get_args(RemediationName)

# Button labels, in both languages the bot answers in (Slack caps button text at 75 characters).
LABELS: Final[dict[str, dict[str, str]]] = {
    "vm_agent_status": {"en": "Check VM agent", "zh-TW": "檢查 VM 代理程式"},
    "job_details": {"en": "Latest failed job", "zh-TW": "最近失敗的作業"},
    "protection_status": {"en": "Protection status", "zh-TW": "保護狀態"},
    "restore_points": {"en": "Count restore points", "zh-TW": "計算還原點"},
    "locks": {"en": "Check locks", "zh-TW": "檢查鎖定"},
    "trigger_backup": {"en": "Run on-demand backup", "zh-TW": "執行隨選備份"},
    "cancel_job": {"en": "Cancel running job", "zh-TW": "取消進行中的作業"},
    "remove_snapshot_extension": {
        "en": "Remove failed VMSnapshot extension",
        "zh-TW": "移除失敗的 VMSnapshot 延伸模組",
    },
    "remove_rg_lock": {"en": "Remove restore-point RG lock", "zh-TW": "移除還原點資源群組鎖定"},
    "delete_restore_point_collection": {
        "en": "Clean restore-point collection",
        "zh-TW": "清除還原點集合",
    },
    "resume_protection": {"en": "Resume protection", "zh-TW": "繼續保護"},
}


def action_label(name: str, lang: str = "en") -> str:
    """The button label of an action in ``lang`` (its name when it has none)."""
    return LABELS.get(name, {}).get(lang, name)


def is_diagnostic(name: str) -> bool:
    """True for a read-only diagnostic name."""
    return name in DIAGNOSTICS


def is_remediation(name: str) -> bool:
    """True for a remediation name (changes Azure; approval-gated)."""
    return name in REMEDIATIONS
