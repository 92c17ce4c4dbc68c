"""Azure Resource Graph through ``azure-mgmt-resourcegraph``: one query over many scopes, paged.

``client.resources()`` answers one page; this module follows ``$skipToken`` with the same query
and scopes, asks for objects (``resultFormat: objectArray``) in pages of up to 1,000 rows, and
keeps to the per-user quota: when ``x-ms-user-quota-remaining`` reaches 0 the next request waits
``x-ms-user-quota-resets-after``. A 429 (azure-core retries a POST only when ``Retry-After`` is
present, which Resource Graph is not documented to send) waits the same way and is tried again
a few times before it becomes ``AzureThrottled``. Time (``sleep``, ``clock``) is injectable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, cast

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError as CoreError
from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from actions.azure import AzureConfig, new_request_id
from actions.azure_errors import to_action_error
from actions.graph import Scopes

PAGE_SIZE: Final = 1000  # the most Resource Graph returns per page
THROTTLE_RETRIES: Final = 4  # 429s one page may meet before the query gives up
DEFAULT_RESET: Final = 5.0  # seconds: the quota window Microsoft documents (15 queries / 5 s)
MAX_WAIT: Final = 60.0  # a longer reset than this is taken as a malformed header

Row = Mapping[str, Any]


def reset_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds until the quota refills: ``Retry-After`` or ``x-ms-user-quota-resets-after``
    (``hh:mm:ss``); None when neither is readable."""
    raw = headers.get("x-ms-user-quota-resets-after")
    if raw:
        try:
            hours, minutes, seconds = raw.strip().split(":")
            return min(int(hours) * 3600 + int(minutes) * 60 + float(seconds), MAX_WAIT)
        except ValueError:
            pass
    after = headers.get("Retry-After")
    if after:
        try:
            return min(max(float(after), 0.0), MAX_WAIT)
        except ValueError:
            return None
    return None


def quota_left(headers: Mapping[str, str]) -> int | None:
    """``x-ms-user-quota-remaining`` as a number; None when absent or unreadable."""
    raw = headers.get("x-ms-user-quota-remaining")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _with_headers(pipeline_response: Any, deserialized: Any, _headers: Any) -> Any:
    return deserialized, pipeline_response.http_response.headers


class ResourceGraph:
    """Runs Resource Graph queries over scopes; every failure is an ``AzureError``."""

    def __init__(
        self,
        config: AzureConfig,
        *,
        endpoint: str | None = None,
        credential: TokenCredential | None = None,
        page_size: int = PAGE_SIZE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._credential = credential or DefaultAzureCredential()
        self._owns_credential = credential is None
        self._page_size = max(1, min(page_size, PAGE_SIZE))
        self._sleep, self._clock = sleep, clock
        self._lock = threading.Lock()  # one quota per identity: callers in threads share it
        self._not_before = 0.0
        base = endpoint or config.arm_endpoint  # else the cloud's Resource Manager
        self._client = ResourceGraphClient(
            self._credential,
            base_url=base.rstrip("/") + "/" if base else None,
            cloud_setting=config.azure_cloud,
            connection_timeout=config.connection_timeout,
            read_timeout=config.read_timeout,
            retry_total=config.retry_total,
            retry_backoff_factor=config.retry_backoff_factor,
            retry_backoff_max=config.retry_backoff_max,
            timeout=config.retry_budget,
        )
        self.requests = 0  # pages asked for (each costs one quota unit)
        self.waited = 0.0  # seconds spent waiting for the quota

    def rows(self, query: str, scopes: Scopes) -> Iterator[Row]:
        """Every row ``query`` returns over ``scopes``, page by page; a row seen through two
        scopes (a subscription inside a listed management group) comes once."""
        seen: set[str] = set()
        for subscriptions, groups in scopes.batches():
            for row in self._paged(query, list(subscriptions), list(groups)):
                key = str(row.get("id", "")).lower()
                if key:
                    if key in seen:
                        continue
                    seen.add(key)
                yield row

    def _paged(self, query: str, subscriptions: list[str], groups: list[str]) -> Iterator[Row]:
        skip: str | None = None
        while True:
            request = QueryRequest(
                query=query,
                subscriptions=subscriptions or None,
                management_groups=groups or None,
                options=QueryRequestOptions(
                    skip_token=skip, top=self._page_size, result_format="objectArray"
                ),
            )
            response = self._page(request)
            data = response.data if isinstance(response.data, list) else []
            yield from (row for row in data if isinstance(row, Mapping))
            skip = response.skip_token
            if not skip:
                return

    def _page(self, request: QueryRequest) -> Any:
        """One page, after any quota wait; 429s wait and retry ``THROTTLE_RETRIES`` times."""
        rid = new_request_id()
        throttled = 0
        while True:
            self._wait_for_quota()
            self.requests += 1
            try:
                response, headers = cast(Any, self._client.resources)(
                    request, cls=_with_headers, request_id=rid
                )
            except HttpResponseError as exc:
                if exc.status_code == 429 and throttled < THROTTLE_RETRIES:
                    throttled += 1
                    self._note_quota(getattr(exc.response, "headers", {}), throttled=True)
                    continue
                raise to_action_error(exc, "query Resource Graph", request_id=rid) from exc
            except CoreError as exc:
                raise to_action_error(exc, "query Resource Graph", request_id=rid) from exc
            self._note_quota(headers)
            return response

    def _note_quota(self, headers: Mapping[str, str], *, throttled: bool = False) -> None:
        if not throttled and quota_left(headers) != 0:
            return
        wait = reset_seconds(headers)
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + (wait or DEFAULT_RESET))

    def _wait_for_quota(self) -> None:
        with self._lock:
            delay = self._not_before - self._clock()
        if delay > 0:
            self.waited += delay
            self._sleep(delay)

    def close(self) -> None:
        """Close the client's connections and the credential we made."""
        self._client.close()
        if self._owns_credential and isinstance(self._credential, DefaultAzureCredential):
            self._credential.close()

    def __enter__(self) -> ResourceGraph:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
