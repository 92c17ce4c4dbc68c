"""Every Slack identifier the app uses, defined once (CONTRACT.md: they start ``backup_fix.``)."""

from __future__ import annotations

from typing import Final

PREFIX: Final = "backup_fix."
SLASH_COMMAND: Final = "/backup-fix"

# Answer buttons.
SHARE: Final = "backup_fix.share"
OPEN_ENTRY: Final = "backup_fix.open"
FEEDBACK_HELPED: Final = "backup_fix.feedback.helped"
FEEDBACK_NOT_HELPED: Final = "backup_fix.feedback.not_helped"
DETAILS: Final = "backup_fix.details"  # the rest of one answer, posted in its thread
MORE: Final = "backup_fix.more"  # the answers of a paste beyond the first three

# Diagnostics and remediations (issue 4): the action name follows the prefix.
DIAGNOSE_PREFIX: Final = "backup_fix.diagnose."
REQUEST_PREFIX: Final = "backup_fix.request."
APPROVE: Final = "backup_fix.approve"
REJECT: Final = "backup_fix.reject"


def diagnose_id(action: str) -> str:
    """The ``action_id`` of a read-only diagnostic button."""
    return f"{DIAGNOSE_PREFIX}{action}"


def request_id(action: str) -> str:
    """The ``action_id`` of a button that asks for a remediation."""
    return f"{REQUEST_PREFIX}{action}"


# The "Pick the VM" menu of a thread (issue 4).
PICK_VM: Final = "backup_fix.pick_vm"

# The approval card's "Change parameters" button and its modal (issue 4).
EDIT_PARAMS: Final = "backup_fix.edit_params"
PARAMS_MODAL: Final = "backup_fix.params_modal"
PARAM_PREFIX: Final = "backup_fix.param."
CHOICE: Final = "choice"  # the block of a menu that sets several parameters at once


def param_id(block: str) -> str:
    """The ``action_id`` of the modal's input for one parameter (or the ``CHOICE`` menu)."""
    return f"{PARAM_PREFIX}{block}"


# Explain any message: the message shortcut (its callback id) and the App Home tab (issue 11).
EXPLAIN: Final = "backup_fix.explain"
HOME_APPROVE: Final = "backup_fix.home.approve"  # same gate as the card's Approve
HOME_REJECT: Final = "backup_fix.home.reject"
HOME_SEARCH: Final = "backup_fix.home.search"  # the Home tab's search box (dispatches on Enter)
