"""``POST /azure/alerts``: authenticate, bound, parse, store, answer 202; nothing slow.

Answers: 202 once stored (or known already: action groups retry), and 202 for alerts that are
counted and dropped (not Azure Backup, no vault, out of scope), so Azure does not retry them;
401 unauthenticated, 400 not the schema, 413 too big, 405 not a POST, 503 with Retry-After when
the store or the tenant's keys are away (Azure retries 503). The body and the URL token are never
logged.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from incidents import inbox
from incidents.intake.auth import Authenticator, Unauthenticated
from incidents.intake.keys import KeysUnavailable
from incidents.intake.schema import NotTheSchema, read_alert

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # Azure Monitor's own bound on one alert's payload
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Counters:
    """The intake's Prometheus counters on the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "backup_fix_alerts_received",
            "POST /azure/alerts requests by result",
            ["result"],
            registry=registry,
        )
        self.dropped = Counter(
            "backup_fix_alerts_dropped",
            "Authenticated alerts not kept, by reason",
            ["reason"],
            registry=registry,
        )


_MADE: weakref.WeakKeyDictionary[CollectorRegistry, Counters] = weakref.WeakKeyDictionary()
_MADE_LOCK = threading.Lock()


def counters_on(registry: CollectorRegistry) -> Counters:
    """The intake's counters on ``registry``, registered once however often the app is built."""
    with _MADE_LOCK:
        if registry not in _MADE:
            _MADE[registry] = Counters(registry)
        return _MADE[registry]


def make_intake(
    auth: Authenticator,
    engine: Engine,
    *,
    in_scope: Callable[[str], bool],
    registry: CollectorRegistry,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> WsgiApp:
    """The WSGI app of ``POST /azure/alerts`` (route it only when ``auth.configured``)."""
    counters = counters_on(registry)

    def answer(
        start_response: StartResponse, status: str, result: str, *extra: tuple[str, str]
    ) -> list[bytes]:
        counters.received.labels(result).inc()
        body = json.dumps({"result": result}).encode() + b"\n"
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(status, [*headers, *extra])
        return [body]

    def intake(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return answer(start_response, "405 Method Not Allowed", "not_post", ("Allow", "POST"))
        try:
            how = auth.check(environ)
        except Unauthenticated as exc:
            log.warning("alert refused: not authenticated", extra={"reason": str(exc)[:300]})
            return answer(start_response, "401 Unauthorized", "unauthenticated")
        except KeysUnavailable as exc:
            log.warning("alert not checked: tenant keys unavailable", extra={"error": str(exc)})
            return answer(start_response, "503 Service Unavailable", "unavailable", _RETRY)
        body = _read(environ)
        if body is None:
            return answer(start_response, "413 Payload Too Large", "too_large")
        try:
            alert = read_alert(json.loads(body), in_scope=in_scope)
        except (ValueError, RecursionError) as exc:  # NotTheSchema is a ValueError too
            why = str(exc) if isinstance(exc, NotTheSchema) else "not JSON"
            log.info("alert refused: not the common alert schema", extra={"reason": why})
            return answer(start_response, "400 Bad Request", "not_the_schema")
        if alert.outcome is None:
            counters.dropped.labels(alert.dropped).inc()
            log.info("alert dropped", extra={"alert_id": alert.alert_id, "reason": alert.dropped})
            return answer(start_response, "202 Accepted", "dropped")
        try:
            fresh = inbox.put(engine, alert.outcome, now=clock())
        except SQLAlchemyError as exc:
            log.warning("alert not stored: store unavailable", extra={"error": type(exc).__name__})
            return answer(start_response, "503 Service Unavailable", "unavailable", _RETRY)
        log.info(
            "alert stored" if fresh else "alert already stored",
            extra={"alert_id": alert.alert_id, "condition": alert.monitor_condition, "via": how},
        )
        return answer(start_response, "202 Accepted", "stored" if fresh else "duplicate")

    return intake


_RETRY = ("Retry-After", "10")


def _read(environ: dict[str, Any]) -> bytes | None:
    """The body, or None when it is over ``MAX_BODY`` (said by its length or found reading)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return None
    stream = environ.get("wsgi.input")
    body: bytes = stream.read(MAX_BODY + 1) if stream is not None else b""
    return None if len(body) > MAX_BODY else body
