"""The read-only diagnostics, by their stable names (``actions.names.DIAGNOSTICS``)."""

from __future__ import annotations

from typing import Final

from actions.base import Diagnostic
from actions.diagnostics.job_details import JobDetails
from actions.diagnostics.locks import Locks
from actions.diagnostics.protection_status import ProtectionStatus
from actions.diagnostics.restore_points import RestorePoints
from actions.diagnostics.vm_agent_status import VmAgentStatus

DIAGNOSTICS: Final[dict[str, Diagnostic]] = {
    d.name: d for d in (VmAgentStatus(), JobDetails(), ProtectionStatus(), RestorePoints(), Locks())
}

__all__ = ["DIAGNOSTICS"]
