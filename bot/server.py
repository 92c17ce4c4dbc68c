"""HTTP mode: a WSGI app (/slack/events, /azure/alerts, /healthz, /readyz, /metrics) on waitress.

With a probe port (``BACKUP_FIX_PROBE_PORT``) the health and metrics paths move to a listener of
their own, which the deployments keep off the public ingress; the main port then answers them 404.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text as sql
from waitress import wasyncore
from waitress.server import create_server

from bot.logging import REQUEST_ID
from bot.metrics import CONTENT_TYPE, Metrics
from bot.observe import new_request_id
from store import Store

log = logging.getLogger(__name__)

READY_TIMEOUT = 2.0  # seconds the store may take to answer `SELECT 1` before /readyz says 503
MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; a bigger body is not from Slack.
EVENTS_PATH = "/slack/events"
ALERTS_PATH = "/azure/alerts"  # Azure Monitor action groups (issue 10); 404 unless configured
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)  # seconds since 1970, as Slack sends them

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _plain(start_response: StartResponse, status: str, body: bytes, ctype: str) -> list[bytes]:
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


class StoreProbe:
    """Whether the store answers a trivial query in time; one probe in flight at most."""

    def __init__(self, store: Store, *, timeout: float = READY_TIMEOUT) -> None:
        self._store = store
        self._timeout = timeout
        self._lock = threading.Lock()
        self._running: threading.Event | None = None

    def __call__(self) -> bool:
        """True when ``SELECT 1`` came back within the timeout."""
        with self._lock:
            if self._running is not None and not self._running.is_set():
                return False  # the last probe still hangs: the store is not answering
            done = self._running = threading.Event()
        result: list[bool] = []

        def probe() -> None:
            try:
                with self._store.engine.connect() as conn:
                    conn.execute(sql("SELECT 1"))
                result.append(True)
            except Exception as exc:
                log.warning("store not ready", extra={"error": type(exc).__name__})
            finally:
                done.set()

        # A thread of its own: a hung connect must not hold an HTTP worker past the timeout.
        threading.Thread(target=probe, name="readyz", daemon=True).start()
        return done.wait(self._timeout) and bool(result)


def _deps_store(app: App) -> Store:
    from bot.app import deps_of  # bot.app builds the app this module serves

    return deps_of(app).store


def make_probes(metrics: Metrics, ready: Callable[[], bool]) -> WsgiApp:
    """/healthz, /readyz (``ready()``) and /metrics; 404 for anything else."""
    text = "text/plain; charset=utf-8"

    def probes(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _plain(start_response, "200 OK", b"ok\n", text)
        if path == "/readyz" and method in ("GET", "HEAD"):
            if ready():
                return _plain(start_response, "200 OK", b"ready\n", text)
            return _plain(start_response, "503 Service Unavailable", b"store unreachable\n", text)
        if path == "/metrics" and method == "GET":
            return _plain(start_response, "200 OK", metrics.render(), CONTENT_TYPE)
        return _plain(start_response, "404 Not Found", b"not found\n", text)

    return probes


def store_probe(app: App) -> StoreProbe:
    """The /readyz check of ``app``: its store answers ``SELECT 1`` in time."""
    return StoreProbe(_deps_store(app))


def alert_intake(app: App, metrics: Metrics) -> WsgiApp | None:
    """``POST /azure/alerts`` of ``app`` from its settings; None when no auth is configured."""
    from bot.app import deps_of
    from incidents.intake import build, vault_allow_list

    deps = deps_of(app)
    settings = deps.settings
    token = settings.alert_token
    return build(
        engine=deps.store.engine,
        registry=metrics.registry,
        in_scope=vault_allow_list(settings.vaults),
        token=token.get_secret_value() if token is not None else None,
        tenant=settings.alert_tenant_id,
        audiences=settings.alert_audience,
        jwks_url=settings.alert_jwks_url,
        cloud=settings.azure_cloud,
        ca_bundle=settings.requests_ca_bundle,
    )


def make_wsgi(
    app: App,
    metrics: Metrics,
    *,
    ready: Callable[[], bool] | None = None,
    probes: bool = True,
) -> WsgiApp:
    """Route requests: Bolt verifies and handles /slack/events; the rest is ours.

    ``ready`` answers /readyz; by default it probes the app's store. ``probes=False`` leaves
    /healthz, /readyz and /metrics to the probe port (``make_probes``): they are 404 here.
    """
    bolt = SlackRequestHandler(app)
    text = "text/plain; charset=utf-8"
    probe_paths = make_probes(metrics, ready or store_probe(app)) if probes else None
    alerts = alert_intake(app, metrics)

    def events(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # Until Bolt's middleware finds Slack's id in the body, the request has one of ours.
        REQUEST_ID.set(new_request_id())
        return bolt(environ, start_response)

    def alert(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        assert alerts is not None
        REQUEST_ID.set(new_request_id())
        return alerts(environ, start_response)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH:
            if method != "POST":
                return _plain(start_response, "405 Method Not Allowed", b"POST only\n", text)
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return _plain(start_response, "400 Bad Request", b"bad Content-Length\n", text)
            if length > MAX_BODY:  # refused before a byte of it is parsed
                return _plain(start_response, "413 Payload Too Large", b"too large\n", text)
            if not _TIMESTAMP.fullmatch(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""):
                # Bolt's verifier would raise on int() of it: a 500 and a stack trace for anyone
                # who sends garbage. Unsigned is unsigned, whatever the reason.
                return _plain(start_response, "401 Unauthorized", b"invalid signature\n", text)
            # Every request, retries included, goes through Bolt's signature check; each in a
            # context of its own, so no request id is left behind on the server's thread.
            return contextvars.copy_context().run(events, environ, start_response)
        if path == ALERTS_PATH and alerts is not None:
            # Authenticated by its own URL token or bearer token, never Slack's signature.
            return contextvars.copy_context().run(alert, environ, start_response)
        if probe_paths is not None:
            return probe_paths(environ, start_response)
        return _plain(start_response, "404 Not Found", b"not found\n", text)

    return wsgi


class HttpServer:
    """waitress bound to ``host:port`` (0 = any free port), run until ``close()``.

    ``probes`` on ``probe_port`` is a second listener in the same loop with threads of its own,
    so a probe is answered while every request thread waits on Slack or the store.
    """

    def __init__(
        self,
        wsgi: WsgiApp,
        *,
        host: str,
        port: int,
        threads: int = 16,
        probes: WsgiApp | None = None,
        probe_port: int | None = None,
    ) -> None:
        options: dict[str, Any] = {
            "host": host,
            "max_request_body_size": MAX_BODY,
            "ident": "backup-fix",
            "clear_untrusted_proxy_headers": True,
            "channel_timeout": 30,
        }
        self._server: Any = create_server(wsgi, port=port, threads=threads, **options)
        self._probes: Any = None
        if probes is not None and probe_port is not None:
            try:
                self._probes = create_server(
                    probes, map=self._map(self._server), port=probe_port, threads=2, **options
                )
            except OSError:
                self._close(self._server)
                raise

    @staticmethod
    def _map(server: Any) -> Any:
        return getattr(server, "map", None) or getattr(server, "_map", None)

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` with the port actually bound."""
        return self._url(self._server)

    @property
    def probe_url(self) -> str | None:
        """``http://HOST:PORT`` of the probe listener; None without one."""
        return None if self._probes is None else self._url(self._probes)

    @staticmethod
    def _url(server: Any) -> str:
        if hasattr(server, "effective_port"):
            host, port = server.effective_host, server.effective_port
        else:  # a name that resolved to several addresses: report the first
            host, port = server.effective_listen[0][:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    def announce(self) -> None:
        """Print and flush the one line operators and tests wait for."""
        print(f"listening on {self.url}", flush=True)
        sys.stdout.flush()

    def run(self) -> None:
        """Serve until ``close()`` (or a signal handler raising) stops the loop."""
        self._server.run()

    def close(self) -> None:
        """Stop accepting, let running requests finish, close the connections."""
        if self._probes is not None:
            self._probes.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        self._close(self._server)

    @classmethod
    def _close(cls, server: Any) -> None:
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        wasyncore.close_all(cls._map(server))
