"""Structured logs: one JSON object a line on stderr, with tokens and secrets masked."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

# Slack tokens and anything shaped like a signing secret never reach a log line.
_SECRET = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(text: str) -> str:
    """``text`` with Slack tokens replaced by their prefix and ``***``."""
    return _SECRET.sub(lambda m: f"{m.group(1)}-***", text)


def new_ref() -> str:
    """A short reference id a user can quote and an operator can grep for."""
    return secrets.token_hex(4)


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line; ``extra=`` fields become keys."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, val in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = val if isinstance(val, int | float | bool | None) else str(val)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, ensure_ascii=False))


def setup_logging(level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON (stdout is kept for the ``listening`` line)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Bolt logs every unhandled request at warning; ours say more, once.
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    # azure-core logs every request and response at INFO: our own records carry what matters
    # (operation, status, correlation id), so keep theirs to warnings.
    logging.getLogger("azure").setLevel(logging.WARNING)
