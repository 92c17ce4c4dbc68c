"""The one place where azure-core's exceptions become ours (``actions.errors``).

    azure.core.exceptions                      actions.errors
    ClientAuthenticationError (401, no token)  AzureAuthError
    HttpResponseError 403                      AzureForbidden
    ResourceNotFoundError / 404                AzureNotFound
    ResourceExistsError / 409 (ScopeLocked...) AzureConflict
    HttpResponseError 429 after retries        AzureThrottled
    HttpResponseError 408, 504                 AzureTimeout
    HttpResponseError 5xx after retries        AzureUnavailable
    Service*TimeoutError                       AzureTimeout
    ServiceRequestError (no connection)        AzureUnavailable
    anything else                              AzureError

Each carries the HTTP status, the ARM error code and the correlation id that Azure support asks for
(``x-ms-correlation-request-id``, else ``x-ms-request-id``, else the client request id we sent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.core.exceptions import (
    AzureError as CoreError,
)
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseTimeoutError,
)

from actions.errors import (
    AzureAuthError,
    AzureConflict,
    AzureError,
    AzureForbidden,
    AzureNotFound,
    AzureThrottled,
    AzureTimeout,
    AzureUnavailable,
)

_BY_STATUS: dict[int, type[AzureError]] = {
    401: AzureAuthError,
    403: AzureForbidden,
    404: AzureNotFound,
    409: AzureConflict,
    408: AzureTimeout,
    429: AzureThrottled,
    504: AzureTimeout,
}


def correlation_id(headers: Any) -> str | None:
    """The id Azure support traces a request by, from response (or request) headers."""
    if headers is None:
        return None
    for name in ("x-ms-correlation-request-id", "x-ms-request-id", "x-ms-client-request-id"):
        found = headers.get(name)
        if found:
            return str(found)
    return None


def _error_code(exc: HttpResponseError) -> str | None:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    if code:
        return str(code)
    # Responses read outside a generated operation carry no parsed ARM error: read the body.
    try:
        body = json.loads(exc.response.text()) if exc.response is not None else None
    except (ValueError, TypeError, AttributeError):
        return None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        found = body["error"].get("code")
        return str(found) if found else None
    return None


def to_action_error(exc: CoreError, what: str, *, request_id: str | None = None) -> AzureError:
    """Our error for an azure-core exception raised while doing ``what``."""
    if isinstance(exc, HttpResponseError) and exc.response is not None:
        status = exc.status_code
        response_headers = getattr(exc.response, "headers", None)
        corr = correlation_id(response_headers) or request_id
        code = _error_code(exc)
        if isinstance(exc, ClientAuthenticationError):
            kind: type[AzureError] = AzureAuthError
        elif status is not None and status in _BY_STATUS:
            kind = _BY_STATUS[status]
        elif status is not None and status >= 500:
            kind = AzureUnavailable
        else:
            kind = AzureError
        detail = f" ({code})" if code else ""
        return kind(f"{what}: HTTP {status}{detail}", status=status, code=code, correlation_id=corr)
    if isinstance(exc, ClientAuthenticationError):
        return AzureAuthError(f"{what}: no Azure token", correlation_id=request_id)
    if isinstance(exc, ServiceRequestTimeoutError | ServiceResponseTimeoutError):
        return AzureTimeout(f"{what}: no answer in time", correlation_id=request_id)
    if isinstance(exc, ServiceRequestError):
        return AzureUnavailable(f"{what}: Resource Manager unreachable", correlation_id=request_id)
    return AzureError(f"{what}: {type(exc).__name__}", correlation_id=request_id)


@contextmanager
def mapped(what: str, *, request_id: str | None = None) -> Iterator[None]:
    """Run an Azure call, turning azure-core exceptions into ours (chained with ``from``)."""
    try:
        yield
    except CoreError as exc:
        raise to_action_error(exc, what, request_id=request_id) from exc


def raise_for_response(response: Any) -> None:
    """Raise an azure-core error for a non-2xx response read outside a generated operation."""
    if not 200 <= response.status_code < 300:
        raise HttpResponseError(response=response)
