"""A tiny round-robin TCP load balancer on 127.0.0.1 in front of bot replicas (tests, bench).

Each accepted connection goes to the next backend in turn; a backend that refuses (a killed
replica) is skipped for the next one, the way a load balancer's health check would. Bounded: at
most ``max_connections`` relayed at once (more are closed at once) and idle connections end after
``idle_timeout`` seconds. ``stop`` closes everything.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import socket
import threading
from collections import Counter
from types import TracebackType
from urllib.parse import urlsplit

_CHUNK = 65536


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


class RoundRobinProxy:
    """Relays connections to ``backends`` (``http://HOST:PORT`` URLs) in turn."""

    def __init__(
        self, backends: list[str], *, max_connections: int = 128, idle_timeout: float = 60.0
    ) -> None:
        if not backends:
            raise ValueError("at least one backend")
        self.backends = [_address(b) for b in backends]
        self.served: Counter[str] = Counter()  # backend URL -> connections relayed to it
        self._turn = itertools.cycle(range(len(self.backends)))
        self._slots = threading.BoundedSemaphore(max_connections)
        self._idle = idle_timeout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, name="lb-accept", daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the balancer."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> RoundRobinProxy:
        """Accept connections in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close every relayed connection."""
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                _close(sock)
            self._open.clear()

    def __enter__(self) -> RoundRobinProxy:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                _close(client)  # over the bound: refuse rather than queue without end
                continue
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _connect(self) -> socket.socket | None:
        with self._lock:
            first = next(self._turn)
        for n in range(len(self.backends)):
            host, port = self.backends[(first + n) % len(self.backends)]
            try:
                upstream = socket.create_connection((host, port), timeout=5)
            except OSError:
                continue  # down: the next one takes it
            with self._lock:
                self.served[f"http://{host}:{port}"] += 1
            return upstream
        return None

    def _relay(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            upstream = self._connect()
            if upstream is None:
                return
            with self._lock:
                self._open.update((client, upstream))
            peers = {client: upstream, upstream: client}
            while not self._stop.is_set():
                readable, _, _ = select.select(list(peers), [], [], self._idle)
                if not readable:
                    return  # idle too long
                for sock in readable:
                    data = sock.recv(_CHUNK)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            for end in (client, upstream):
                if end is not None:
                    _close(end)
                    with self._lock:
                        self._open.discard(end)
            self._slots.release()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
