"""Pastes the bot could not answer confidently: counted, and kept redacted for ``kb report``."""

from __future__ import annotations

import logging
import re

from sqlalchemy.exc import SQLAlchemyError

from bot.listeners import Deps
from bot.replies import paste_hash
from bot.unmatched_store import record_unmatched
from knowledge.matcher import Analysis
from knowledge.report import redact_excerpt

log = logging.getLogger(__name__)

MAX_CODES = 10
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9]{3,99}|[0-9]{3,9}|0x[0-9A-Fa-f]{4,8}")


def note_unmatched(deps: Deps, text: str, analysis: Analysis, *, source: str, channel: str) -> None:
    """Count an unanswered paste and store its redacted excerpt; a store failure only logs."""
    deps.metrics.unmatched.labels(source).inc()
    best = analysis.suggestions[0] if analysis.suggestions else None
    # A "code" redaction would change (a key, a token) is not kept, not even in the report.
    unknown = [c for c in analysis.unknown_codes[:MAX_CODES] if _CODE.fullmatch(c)]
    unknown = [c for c in unknown if redact_excerpt(c) == c]
    try:
        record_unmatched(
            deps.store,
            excerpt=redact_excerpt(text),
            digest=paste_hash(text),
            best=(best.code, float(best.score)) if best is not None else None,
            source=source,
            channel=channel,
            unknown_codes=unknown,
        )
    except SQLAlchemyError:  # the reply matters more than the report
        log.exception("could not record an unmatched paste", extra={"source": source})
        return
    log.info(
        "unmatched paste recorded",
        extra={"source": source, "best_code": best.code if best else None, "unknown": unknown},
    )
