"""The approval-gated remediations, by their stable names (``actions.names.REMEDIATIONS``)."""

from __future__ import annotations

from typing import Final

from actions.base import Remediation
from actions.remediations.cancel_job import CancelJob
from actions.remediations.delete_restore_point_collection import DeleteRestorePointCollection
from actions.remediations.remove_rg_lock import RemoveRgLock
from actions.remediations.remove_snapshot_extension import RemoveSnapshotExtension
from actions.remediations.resume_protection import ResumeProtection
from actions.remediations.trigger_backup import TriggerBackup

REMEDIATIONS: Final[dict[str, Remediation]] = {
    r.name: r
    for r in (
        TriggerBackup(),
        CancelJob(),
        RemoveSnapshotExtension(),
        RemoveRgLock(),
        DeleteRestorePointCollection(),
        ResumeProtection(),
    )
}

__all__ = ["REMEDIATIONS"]
