"""Builds the Azure SDK clients: one credential, the configured cloud, timeouts, retries, caching.

The only module that decides how the bot talks to Resource Manager; ``actions/azure_backup.py``
and ``actions/azure_compute.py`` call the clients it hands out.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from azure.core import AzureClouds
from azure.core.credentials import TokenCredential
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy
from azure.core.rest import HttpRequest
from azure.identity import DefaultAzureCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient
from azure.mgmt.resource.locks import ManagementLockClient

from actions.azure_errors import correlation_id, raise_for_response

CLOUDS: Final[dict[str, AzureClouds]] = {
    "AzureCloud": AzureClouds.AZURE_PUBLIC_CLOUD,
    "AzureChinaCloud": AzureClouds.AZURE_CHINA_CLOUD,
    "AzureUSGovernment": AzureClouds.AZURE_US_GOVERNMENT,
}
_PORTALS: Final[dict[str, str]] = {
    "AzureCloud": "https://portal.azure.com",
    "AzureChinaCloud": "https://portal.azure.cn",
    "AzureUSGovernment": "https://portal.azure.us",
}
_RESOURCE_GROUPS_API: Final = "2021-04-01"


@dataclass(frozen=True, slots=True)
class AzureConfig:
    """How to reach Azure; the bot's Settings builds it, tests pass small timeouts."""

    cloud: str = "AzureCloud"
    arm_endpoint: str | None = None  # overrides the cloud's base URL, not its token scope
    polling_interval: float = 30.0  # SDK pollers' delay when the service sends no Retry-After
    connection_timeout: float = 10.0
    read_timeout: float = 60.0
    retry_total: int = 4
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 30.0
    retry_budget: float = 180.0  # absolute seconds one call may take, retries included
    operation_timeout: float = 300.0  # bounded wait for an operation or deletion to finish
    max_poll_delay: float = 60.0  # cap on one wait between our own status polls

    def __post_init__(self) -> None:
        if self.cloud not in CLOUDS:
            raise ValueError(f"unknown Azure cloud {self.cloud!r}; use one of {', '.join(CLOUDS)}")

    @property
    def azure_cloud(self) -> AzureClouds:
        """The azure-core cloud setting (decides the token scope)."""
        return CLOUDS[self.cloud]

    @property
    def portal(self) -> str:
        """The portal of the cloud, for links in the thread."""
        return _PORTALS[self.cloud]

    def portal_link(self, resource_id: str) -> str:
        """A portal link to a resource."""
        return f"{self.portal}/#@/resource{resource_id}"


@dataclass(frozen=True, slots=True)
class AzureCall:
    """One request to Resource Manager (one attempt: a retried request is several calls)."""

    operation: str  # e.g. "POST Microsoft.RecoveryServices/vaults/.../backup": no names or ids
    status: int | None  # None: no response (timeout, connection refused)
    seconds: float
    correlation_id: str | None
    error: str | None = None  # the exception's type when there was no response


CallObserver = Callable[[AzureCall], None]


def operation_of(method: str, url: str) -> str:
    """The method and resource-type path of a Resource Manager URL, without names or ids."""
    path = url.split("?", 1)[0].split("://", 1)[-1]
    segments = [s for s in path.split("/")[1:] if s]
    lowered = [s.lower() for s in segments]
    if "providers" in lowered:
        start = len(lowered) - 1 - lowered[::-1].index("providers")
        namespace, rest = segments[start + 1 : start + 2], segments[start + 2 :]
        kinds = rest[0::2]  # collection names; the names of resources sit between them
        return f"{method} {'/'.join(namespace + kinds)}"
    return f"{method} {'/'.join(segments[0::2])}"


class _ObserverPolicy(HTTPPolicy):  # type: ignore[type-arg]
    """Times each attempt (it sits after the retry policy) and hands it to the observers."""

    def __init__(self, notify: CallObserver) -> None:
        super().__init__()
        self._notify = notify

    def send(self, request: PipelineRequest) -> PipelineResponse:  # type: ignore[type-arg]
        """Send on, then report the attempt (also when it raised)."""
        http = request.http_request
        operation = operation_of(http.method, http.url)
        start = time.perf_counter()
        try:
            response: PipelineResponse = self.next.send(request)  # type: ignore[type-arg]
        except Exception as exc:
            sent = correlation_id(http.headers)
            seconds = time.perf_counter() - start
            self._notify(AzureCall(operation, None, seconds, sent, type(exc).__name__))
            raise
        answer = response.http_response
        corr = correlation_id(answer.headers) or correlation_id(http.headers)
        self._notify(AzureCall(operation, answer.status_code, time.perf_counter() - start, corr))
        return response


class AzureClients:
    """One credential and per-subscription SDK clients sharing the configured pipeline options."""

    def __init__(self, config: AzureConfig, *, credential: TokenCredential | None = None) -> None:
        self.config = config
        self._observers: list[CallObserver] = []
        # DefaultAzureCredential reads its own environment (managed identity, workload identity).
        self._credential = credential or DefaultAzureCredential()
        self._owns_credential = credential is None
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

    def _options(self) -> dict[str, Any]:
        c = self.config
        options: dict[str, Any] = {
            "cloud_setting": c.azure_cloud,
            "polling_interval": c.polling_interval,
            "connection_timeout": c.connection_timeout,
            "read_timeout": c.read_timeout,
            "retry_total": c.retry_total,
            "retry_backoff_factor": c.retry_backoff_factor,
            "retry_backoff_max": c.retry_backoff_max,
            "timeout": c.retry_budget,
        }
        if c.arm_endpoint:
            options["base_url"] = c.arm_endpoint.rstrip("/") + "/"
        # A policy instance per client: a pipeline links its policies to each other.
        options["per_retry_policies"] = [_ObserverPolicy(self._notify)]
        return options

    def observe(self, observer: CallObserver) -> None:
        """Call ``observer`` after every Resource Manager request (metrics, logs)."""
        self._observers.append(observer)

    def _notify(self, call: AzureCall) -> None:
        for observer in list(self._observers):
            with contextlib.suppress(Exception):  # observing must never break the Azure call
                observer(call)

    def _client(self, kind: str, subscription_id: str, factory: Any) -> Any:
        key = (kind, subscription_id.lower())
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = factory(self._credential, subscription_id, **self._options())
                self._clients[key] = client
            return client

    def backup(self, subscription_id: str) -> RecoveryServicesBackupClient:
        """The Recovery Services Backup client of a subscription."""
        client: RecoveryServicesBackupClient = self._client(
            "backup", subscription_id, RecoveryServicesBackupClient
        )
        return client

    def compute(self, subscription_id: str) -> ComputeManagementClient:
        """The compute client of a subscription."""
        client: ComputeManagementClient = self._client(
            "compute", subscription_id, ComputeManagementClient
        )
        return client

    def locks(self, subscription_id: str) -> ManagementLockClient:
        """The management-locks client of a subscription."""
        client: ManagementLockClient = self._client("locks", subscription_id, ManagementLockClient)
        return client

    def list_resource_groups(
        self, subscription_id: str, **options: Any
    ) -> Iterator[Mapping[str, Any]]:
        """The subscription's resource groups, page by page through the compute pipeline."""
        # azure-mgmt-resource is not installed (locks left it in 25.0): a plain GET through a
        # generated client's pipeline keeps the same credential, retries and timeouts.
        client = self.compute(subscription_id)
        url: str | None = (
            f"/subscriptions/{subscription_id}/resourcegroups?api-version={_RESOURCE_GROUPS_API}"
        )
        while url:
            response = client.send_request(HttpRequest("GET", url), **options)
            raise_for_response(response)
            page = response.json()
            yield from page.get("value", [])
            url = page.get("nextLink")

    def close(self) -> None:
        """Close every client's connections and the credential."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
        if self._owns_credential and isinstance(self._credential, DefaultAzureCredential):
            self._credential.close()


def observe_calls(api: object, observer: CallObserver) -> bool:
    """Hook ``observer`` into an API built on AzureClients; False for other APIs (test fakes)."""
    clients = getattr(api, "_clients", None)  # where AzureBackupApi keeps its AzureClients
    if not isinstance(clients, AzureClients):
        return False
    clients.observe(observer)
    return True


def value(data: Any, *path: str, default: Any = None) -> Any:
    """Walk SDK models as mappings by their REST names (RSB 11.2.0 models, see G1)."""
    current = data
    for key in path:
        if not isinstance(current, Mapping):
            return default
        current = current.get(key)
        if current is None:
            return default
    return current


def parse_time(raw: Any) -> datetime | None:
    """An ISO timestamp from a REST body (or an SDK datetime) as a datetime."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        return raw
    text = str(raw).replace("Z", "+00:00")
    # Azure sends 7 fractional digits; fromisoformat before 3.11 needs at most 6.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class FirstResponse:
    """A ``raw_response_hook`` keeping the first accepted response's headers (correlation ids)."""

    def __init__(self) -> None:
        self.headers: Mapping[str, str] | None = None

    def __call__(self, pipeline_response: Any) -> None:
        response = pipeline_response.http_response
        # The hook sees every attempt: a throttled try that was retried is not the answer.
        if self.headers is None and response.status_code < 400:
            self.headers = response.headers


def wait_for(poller: Any, timeout: float) -> bool:
    """Wait at most ``timeout`` seconds for an SDK poller; True when it finished (errors raise)."""
    poller.wait(timeout)
    if not poller.done():
        return False
    poller.result()  # raises the operation's failure, if any
    return True


def new_request_id() -> str:
    """A client request id sent as x-ms-client-request-id: traceable even without an answer."""
    return str(uuid.uuid4())
