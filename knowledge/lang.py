"""Which language a paste is written in: zh-TW, English, or no signal (a bare code)."""

from __future__ import annotations

import re

from knowledge.model import Lang
from knowledge.text import cjk_share

# Identifiers say nothing about the writer's language: codes, URLs, resource paths, GUIDs.
_NOISE = re.compile(
    r"https?://\S+"
    r"|/subscriptions/\S+"
    r"|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    r"|\b[A-Za-z][a-z0-9]*(?:[A-Z][A-Za-z0-9]*){2,}\b"
)


def detect_lang(text: str) -> Lang | None:
    """``zh-TW`` when the prose is Chinese, ``en`` when it is English, None without a signal."""
    prose = _NOISE.sub(" ", text[:8192])
    cjk, latin = cjk_share(prose)
    if cjk >= 2 and cjk * 8 >= latin:
        return "zh-TW"
    if latin >= 6:
        return "en"
    if cjk >= 2:
        return "zh-TW"
    return None
