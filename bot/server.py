"""HTTP mode: a WSGI app (/slack/events, /healthz, /metrics) served by waitress."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

from bot.metrics import CONTENT_TYPE, Metrics

MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; a bigger body is not from Slack.
EVENTS_PATH = "/slack/events"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _plain(start_response: StartResponse, status: str, body: bytes, ctype: str) -> list[bytes]:
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


def make_wsgi(app: App, metrics: Metrics) -> WsgiApp:
    """Route requests: Bolt verifies and handles /slack/events; the rest is ours."""
    bolt = SlackRequestHandler(app)
    text = "text/plain; charset=utf-8"

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
            # Every request, retries included, goes through Bolt's signature check.
            return bolt(environ, start_response)
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _plain(start_response, "200 OK", b"ok\n", text)
        if path == "/metrics" and method == "GET":
            return _plain(start_response, "200 OK", metrics.render(), CONTENT_TYPE)
        return _plain(start_response, "404 Not Found", b"not found\n", text)

    return wsgi


class HttpServer:
    """waitress bound to ``host:port`` (0 = any free port), run until ``close()``."""

    def __init__(self, wsgi: WsgiApp, *, host: str, port: int, threads: int = 16) -> None:
        self._server: Any = create_server(
            wsgi,
            host=host,
            port=port,
            threads=threads,
            max_request_body_size=MAX_BODY,
            ident="backup-fix",
            clear_untrusted_proxy_headers=True,
            channel_timeout=30,
        )

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` with the port actually bound."""
        server = self._server
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
        server = self._server
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        wasyncore.close_all(getattr(server, "map", None) or getattr(server, "_map", None))
