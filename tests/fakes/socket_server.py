"""A local Socket Mode server: greets the bot with ``hello``, pushes envelopes, records acks."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


class FakeSocketMode:
    """Serves ``ws://127.0.0.1:<port>/link`` in a background thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._conns: list[ServerConnection] = []
        self.received: list[dict[str, Any]] = []
        self._server: Server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """What apps.connections.open should hand out."""
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=test"

    def start(self) -> FakeSocketMode:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection and stop serving."""
        with self._cond:
            conns = list(self._conns)
        for conn in conns:
            conn.close()
        self._server.shutdown()

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, conn: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "fake", "approximate_connection_time": 3600},
            "connection_info": {"app_id": "A1"},
        }
        conn.send(json.dumps(hello))
        with self._cond:
            self._conns.append(conn)
            self._cond.notify_all()
        try:
            for raw in conn:
                try:
                    message = json.loads(raw)
                except ValueError:
                    message = {"unparsed": str(raw)}
                with self._cond:
                    self.received.append(message)
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                self._conns.remove(conn)
                self._cond.notify_all()

    def wait_connected(self, timeout: float = 15.0) -> None:
        """Block until a client holds a connection."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._conns:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no Socket Mode connection within {timeout}s")
                self._cond.wait(left)

    def push(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False
    ) -> str:
        """Send an envelope (``events_api``, ``slash_commands``, ``interactive``); its id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._cond:
            if not self._conns:
                raise RuntimeError("no Socket Mode client connected")
            conn = self._conns[-1]
        conn.send(json.dumps(envelope))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Block until the client acknowledged ``envelope_id``; the ack."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.received:
                    if message.get("envelope_id") == envelope_id:
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no ack for {envelope_id} within {timeout}s")
                self._cond.wait(left)
