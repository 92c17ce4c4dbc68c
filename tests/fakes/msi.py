"""A fake managed-identity endpoint (App Service style) for the real ``DefaultAzureCredential``.

Point ``IDENTITY_ENDPOINT`` at ``endpoint`` and ``IDENTITY_HEADER`` at ``secret``; with
``AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential`` (or ``prod``) azure-identity asks here for
tokens. Every requested ``resource`` is recorded so a test can check the token scope per cloud.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class FakeMsi:
    """Answers ``GET /msi/token?resource=...`` with a bearer token naming the resource."""

    def __init__(self, *, secret: str = "identity-header-secret") -> None:  # noqa: S107
        self.secret = secret
        self.resources: list[str] = []
        self.refused = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def endpoint(self) -> str:
        """The value for IDENTITY_ENDPOINT."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/msi/token"

    @staticmethod
    def token_for(resource: str) -> str:
        """The access token the fake issues for a resource (what ARM will see)."""
        return "fake-token-for-" + resource.rstrip("/")

    def start(self) -> FakeMsi:
        """Start serving in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeMsi:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                if self.headers.get("X-IDENTITY-HEADER") != fake.secret:
                    with fake._lock:
                        fake.refused += 1
                    self._send(401, {"error": "invalid_request", "error_description": "header"})
                    return
                resource = query.get("resource", "")
                with fake._lock:
                    fake.resources.append(resource)
                self._send(
                    200,
                    {
                        "access_token": fake.token_for(resource),
                        "expires_on": str(int(time.time()) + 3600),
                        "resource": resource,
                        "token_type": "Bearer",
                    },
                )

            def _send(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
