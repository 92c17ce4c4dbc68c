"""Socket Mode: the same app over a websocket Slack opens for us (no public URL needed)."""

from __future__ import annotations

import logging
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)


class SocketModeRunner:
    """Connect with the app-level token, report it, and hold until ``stop()``."""

    def __init__(self, app: App, app_token: str) -> None:
        self._handler = SocketModeHandler(
            app, app_token=app_token, logger=logging.getLogger("slack_bolt")
        )
        self._stopped = threading.Event()

    def run(self) -> None:
        """Connect (apps.connections.open, then the websocket) and block until ``stop()``."""
        self._handler.connect()  # type: ignore[no-untyped-call]
        print("connected to Slack over Socket Mode", flush=True)
        log.info("socket mode connected")
        # Short waits keep the main thread responsive to signals on every platform.
        while not self._stopped.wait(0.5):
            pass

    def stop(self) -> None:
        """Let ``run()`` return; safe to call from a signal handler."""
        self._stopped.set()

    def close(self) -> None:
        """Close the websocket and its threads."""
        try:
            self._handler.close()  # type: ignore[no-untyped-call]
        except Exception:  # shutting down anyway; the log says what failed
            log.warning("socket mode close failed", exc_info=True)
