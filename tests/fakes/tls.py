"""An HTTPS server on 127.0.0.1 for the fakes, with a ``trustme`` CA written to ``ca_bundle``.

The fake Resource Manager, Resource Graph and OIDC issuer each own one: clients trust it through
``REQUESTS_CA_BUNDLE`` (the real SDKs' TLS stack, no verification switched off).
"""

from __future__ import annotations

import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme


class TlsServer:
    """``handler`` served over HTTPS in a daemon thread until ``stop()``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, prefix: str) -> None:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.dir = tempfile.TemporaryDirectory(prefix=prefix)
        self.ca_bundle = str(Path(self.dir.name) / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_bundle)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.handle_error = lambda *_a: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and remove the CA bundle."""
        self._server.shutdown()
        self._server.server_close()
        self.dir.cleanup()
