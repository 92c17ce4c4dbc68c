"""Errors of the actions package. Azure SDK errors are mapped to these in one place
(``actions/azure_errors.py``); users see a fixed sentence and a reference id, never ``str(exc)``.

    ActionError
    ├── NotAllowed            guardrails: vault not configured, action not enabled, not applicable
    └── AzureError            an Azure call failed; carries status, code and correlation id
        ├── AzureAuthError        401 / credential unavailable
        ├── AzureForbidden        403
        ├── AzureNotFound         404
        ├── AzureConflict         409 (``code`` e.g. ScopeLocked)
        ├── AzureThrottled        429 after retries
        ├── AzureUnavailable      5xx after retries
        └── AzureTimeout          no answer in time
"""

from __future__ import annotations


class ActionError(Exception):
    """Base class of the actions package's errors."""


class NotAllowed(ActionError):
    """A guardrail refused: the message is safe to show to users."""


class AzureError(ActionError):
    """An Azure call failed."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.correlation_id = correlation_id


class AzureAuthError(AzureError):
    """No token, or the token was refused (401)."""


class AzureForbidden(AzureError):
    """The identity lacks a role for the operation (403)."""


class AzureNotFound(AzureError):
    """The resource does not exist (404)."""


class AzureConflict(AzureError):
    """The operation conflicts with the resource's state (409), e.g. ScopeLocked."""


class AzureThrottled(AzureError):
    """Resource Manager kept answering 429 after the retries."""


class AzureUnavailable(AzureError):
    """Resource Manager kept failing (5xx) after the retries."""


class AzureTimeout(AzureError):
    """No answer within the configured timeout."""
