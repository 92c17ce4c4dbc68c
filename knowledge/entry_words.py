"""An entry's own words by field, and what they say about it next to a paste.

The description index (``knowledge/describe.py``) reads each entry's texts per field; twins are
told apart by the words their codes do not share; an entry's code or title says whether its
error comes from a restore, and a paste's words whether it speaks of one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from knowledge.model import Entry, Section

__all__ = ["fields", "of_restores", "said", "speaks_of_restore"]

_RESTORE_CODE = re.compile(r"restor(?!epoint)")
_RESTORE_TITLE = re.compile(r"(?:an? |the )?(?:[\w-]+ )?restor(?:e|ed|ing)?\b(?! point)")
# A Recovery Services vault (復原服務) or a recovery point (復原點) is no restore.
_RESTORE_WORDS = re.compile(r"restor|recover(?!y ?services|y ?points?)|還原|復原(?!服務|點)")


def fields(entry: Entry, sections: Mapping[str, Section]) -> dict[str, list[str]]:
    """The entry's texts per field (code, title, message, symptom, summary, cause), both
    languages."""
    out: dict[str, list[str]] = {
        "code": [entry.code, *entry.also_codes],
        "title": [entry.title.en, entry.title.zh_TW],
        "message": [m.text for m in entry.messages],
        "symptom": [s.text for s in entry.symptoms],
        "summary": [entry.summary.en, entry.summary.zh_TW],
        "cause": [],
    }
    for cause in entry.causes:
        if cause.text is not None:
            out["cause"] += [cause.text.en, cause.text.zh_TW]
        elif cause.section is not None and cause.section in sections:
            title = sections[cause.section].title  # a shared cause: its title says what it is
            out["cause"] += [title.en, title.zh_TW]
    return out


def said(a: Counter[str], b: Counter[str], present: set[str]) -> tuple[float, float]:
    """How many of the words only code ``a`` has, and only ``b`` has, the paste says. When one
    code is the other plus words (``UserErrorOtherBackupProductCausingSQLLSN...`` over
    ``UserErrorSQLLSN...``), the general one is the default: the specific one needs most of its
    own words."""
    own_a, own_b = set(a - b), set(b - a)
    said_a, said_b = len(own_a & present), len(own_b & present)
    if own_a and own_b:
        return float(said_a), float(said_b)
    if own_a:
        return float(2 * said_a > len(own_a)), float(2 * said_a <= len(own_a))
    if own_b:
        return float(2 * said_b <= len(own_b)), float(2 * said_b > len(own_b))
    return 0.0, 0.0


def of_restores(entry: Entry) -> bool:
    """The entry's error comes from a restore: its code or the start of its title says so
    (``...ForBlobRestore``, "Restore failed: ..."; a restore point is no restore)."""
    code = entry.code.lower()
    return bool(
        (_RESTORE_CODE.search(code) and "backup" not in code)
        or _RESTORE_TITLE.match(entry.title.en.lower())
    )


def speaks_of_restore(low: str) -> bool:
    """The lower-cased paste speaks of a restore or a recovery."""
    return _RESTORE_WORDS.search(low) is not None
