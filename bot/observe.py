"""Request ids that follow the work across threads, and timing of every Slack and Azure call.

A Slack request gets its id in the HTTP layer (a generated one) and again in a Bolt middleware
(Slack's ``event_id`` or ``trigger_id`` when the body has one). Listener threads and background
executions start from a copy of the submitting thread's context, so their log lines carry it too.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from actions.executor import BoundedExecutor
from bot.background import Background
from bot.logging import AZURE_CORRELATION_ID, REQUEST_ID
from bot.metrics import Metrics

if TYPE_CHECKING:
    from actions.azure import AzureCall

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
_COUNTED = "_backup_fix_counted"


def new_request_id() -> str:
    """A request id for work Slack gave no id to."""
    return "req-" + secrets.token_hex(6)


def request_id_of(body: dict[str, Any]) -> str:
    """Slack's own id of a request: event_id, envelope_id or trigger_id; else a new one."""
    for key in ("event_id", "envelope_id", "trigger_id"):
        found = body.get(key)
        if isinstance(found, str) and found:
            return found
    return new_request_id()


def bind(fn: Callable[P, T]) -> Callable[P, T]:
    """``fn`` to run later, elsewhere, in a copy of the current context (request id included)."""
    context = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return context.copy().run(fn, *args, **kwargs)

    return run


class ContextExecutor(BoundedExecutor):
    """A bounded thread pool whose tasks run in a copy of the submitter's context."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Like BoundedExecutor.submit, with the caller's context variables."""
        context = contextvars.copy_context()
        return super().submit(lambda: context.run(fn, *args, **kwargs))


class TracedBackground(Background):
    """Background reads that keep the request id of the click that started them (executions and
    job follow-ups get it from ``actions.executor.Executor``, which runs them in the caller's
    context)."""

    def run(self, what: str, work: Callable[[], None]) -> None:
        """Run read-only work in the background, in the caller's context."""
        super().run(what, bind(work))


class ObservedWebClient(WebClient):
    """A WebClient that times every Web API call and counts the failed ones, by method."""

    metrics: Metrics | None = None

    @classmethod
    def like(cls, client: WebClient, metrics: Metrics) -> ObservedWebClient:
        """A copy of ``client`` (token, URL, TLS, retries) reporting into ``metrics``."""
        copy = cls(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=client.headers,
            team_id=client.default_params.get("team_id"),
            logger=client.logger,
            retry_handlers=list(client.retry_handlers or []),
        )
        copy.metrics = metrics
        return copy

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        """Call ``api_method``, recording its latency and any failure."""
        start = time.perf_counter()
        try:
            return super().api_call(api_method, **kwargs)
        except Exception as exc:
            if self.metrics is not None:
                self.metrics.slack_errors.labels(api_method).inc()
                setattr(exc, _COUNTED, True)  # replies.slack_call must not count it again
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            # INFO: whoever handles the failure logs it with a reference id (replies.slack_call).
            log.info(
                "slack api error",
                extra={"method": api_method, "error": error or type(exc).__name__},
            )
            raise
        finally:
            if self.metrics is not None:
                elapsed = time.perf_counter() - start
                self.metrics.slack_seconds.labels(api_method).observe(elapsed)


def counted(exc: BaseException) -> bool:
    """True when an ObservedWebClient already counted this failure."""
    return bool(getattr(exc, _COUNTED, False))


def request_middleware(metrics: Metrics) -> Callable[..., None]:
    """A Bolt middleware: Slack's request id into the context; the Web API client timed."""

    # Bolt passes the arguments by name, `next` included.
    def observe(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> None:
        REQUEST_ID.set(request_id_of(body))
        client = context.client
        if client is not None and not isinstance(client, ObservedWebClient):
            context["client"] = ObservedWebClient.like(client, metrics)
        next()

    return observe


def azure_observer(metrics: Metrics) -> Callable[[AzureCall], None]:
    """What actions/azure.py calls after each Resource Manager request: metrics and one log line."""

    def on_call(call: AzureCall) -> None:
        status_class = f"{call.status // 100}xx" if call.status is not None else "no_response"
        metrics.azure_seconds.labels(call.operation, status_class).observe(call.seconds)
        failed = call.status is None or call.status >= 400
        if failed:
            metrics.azure_errors.labels(call.operation, status_class).inc()
        if call.correlation_id:
            AZURE_CORRELATION_ID.set(call.correlation_id)
        fields = {
            "operation": call.operation,
            "status": call.status,
            "ms": round(call.seconds * 1000, 1),
            "azure_correlation_id": call.correlation_id,
            "error": call.error,
        }
        log.log(logging.WARNING if failed else logging.INFO, "azure call", extra=fields)

    return on_call
