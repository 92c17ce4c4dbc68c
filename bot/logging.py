"""Structured logs: one JSON object a line on stderr, with tokens and secrets masked.

Every record carries the id of the Slack request it belongs to (``request_id``) and, after an Azure
call in the same request, that call's correlation id (``azure_correlation_id``): both live in
context variables that follow the work onto listener and background threads (``bot/observe.py``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

# Slack tokens and anything shaped like a signing secret never reach a log line.
_SECRET = re.compile(r"\b(xox[abeposr]|xapp)-[A-Za-z0-9-]+")
# Azure and OAuth secrets: bearer tokens, JWTs (access tokens), SAS signatures, key=value secrets.
_BEARER = re.compile(r"(?i)\b(bearer)(\s+|%20)[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_KEY_VALUE = re.compile(
    r"(?i)\b(sig|signature|client_secret|password|secret|access_token|refresh_token|apikey)"
    r"(\\?[\"']?\s*[=:]\s*\\?[\"']?)[^\s\"'&,;\\]+"
)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
AZURE_CORRELATION_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "azure_correlation_id", default=None
)

_CONTEXT_KEYS = (("request_id", REQUEST_ID), ("azure_correlation_id", AZURE_CORRELATION_ID))


def redact(text: str) -> str:
    """``text`` with tokens and secrets replaced by their name or prefix and ``***``."""
    text = _SECRET.sub(lambda m: f"{m.group(1)}-***", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _JWT.sub("eyJ***", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def new_ref() -> str:
    """A short reference id a user can quote and an operator can grep for."""
    return secrets.token_hex(4)


class ContextFilter(logging.Filter):
    """Stamp the request id and Azure correlation id of the logging thread's context."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the ids a record does not carry yet; never drops a record."""
        # Runs on the thread that logs, so the context is that of the request being served.
        for key, var in _CONTEXT_KEYS:
            found = var.get()
            if found is not None and not hasattr(record, key):
                setattr(record, key, found)
        return True


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line; ``extra=`` fields become keys."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "thread": record.threadName,
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
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Bolt logs every unhandled request at warning; ours say more, once.
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    # azure-core logs every request and response at INFO: our own records carry what matters
    # (operation, status, correlation id), so keep theirs to warnings.
    logging.getLogger("azure").setLevel(logging.WARNING)
