"""The fixed sentences users see when an action fails or is refused (never ``str(exc)``)."""

from __future__ import annotations

from typing import Final

from actions.approvals import Refusal
from actions.errors import (
    AzureAuthError,
    AzureConflict,
    AzureError,
    AzureForbidden,
    AzureNotFound,
    AzureThrottled,
    AzureTimeout,
    AzureUnavailable,
    NotAllowed,
)

REFUSALS: Final[dict[Refusal, str]] = {
    Refusal.NOT_APPROVER: "Only the configured approvers can decide this request.",
    Refusal.OWN_REQUEST: "You asked for this change, so someone else has to approve it.",
    Refusal.EXPIRED: "This request has expired; ask for the change again if it is still needed.",
    Refusal.TAMPERED: "This button does not match a request I know, so I ignored it.",
    Refusal.ALREADY_DECIDED: "This request has already been decided.",
}
AUDIT_REFUSED: Final = "The audit trail is only for the configured approvers."
NO_AZURE: Final = "Azure actions are off here: no Recovery Services vault is configured."
UNKNOWN_ACTION: Final = "This button names an action I don't have, so I ignored it."

_AZURE: Final[list[tuple[type[AzureError], str]]] = [
    (AzureAuthError, "I could not sign in to Azure."),
    (AzureForbidden, "Azure refused: my identity lacks a role for this."),
    (AzureNotFound, "Azure says the resource does not exist (any more)."),
    (AzureConflict, "Azure refused because of a conflict with the resource's state or a lock."),
    (AzureThrottled, "Azure is throttling my requests; try again in a few minutes."),
    (AzureUnavailable, "Azure is not answering properly right now; try again later."),
    (AzureTimeout, "Azure did not answer in time."),
]


def error_sentence(exc: BaseException) -> str:
    """What went wrong, in a fixed sentence safe to show (NotAllowed messages are written so)."""
    if isinstance(exc, NotAllowed):
        return str(exc)
    for kind, sentence in _AZURE:
        if isinstance(exc, kind):
            code = f" ({exc.code})" if exc.code and exc.code.isidentifier() else ""
            return sentence[:-1] + code + "."
    if isinstance(exc, AzureError):
        return "The Azure call failed."
    return "Sorry, something went wrong on my side."
