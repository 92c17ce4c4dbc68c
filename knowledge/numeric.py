"""Numeric and hexadecimal error ids in a paste, read only where something labels them as one.

The MARS agent, DPM and MABS print ids the way ``(ID: 34513)``, ``Error 34506``, ``Error ID:
2013`` or ``Vault Credentials Error: 100110`` do, job JSON as ``"errorCode": 123456``, and
internal errors as ``[0x1FC07]``. A bare number is a duration, a count or a ticket ("I waited
100050 ms") and answers nothing; a bare hexadecimal code is weaker without a label or context.
"""

from __future__ import annotations

import re

from knowledge.evidence import Evidence, Paste
from knowledge.loader import KnowledgeBase
from knowledge.model import Entry
from knowledge.signals import workloads

LABELLED = 92.0  # "(ID: 34513)", "Error 34506": the paste says this is the error's id
UNLABELLED = 75.0  # a known id without its label, in a backup paste: a suggestion

_DECIMAL = re.compile(r"^[0-9]{3,9}$")
_DIGITS = re.compile(r"[0-9]{3}")
_HEX = re.compile(r"^0x[0-9a-f]{4,8}$")
# A whole number (not part of a version, a date or an identifier) and the label before an id.
_NUMBER = re.compile(r"(?<![0-9a-z])[0-9]{3,9}(?![0-9a-z]|[.,/:-][0-9a-z])")
_LABEL = re.compile(
    r"(\(\s*id|error\s+id|event\s+id|\bid|error\s*code|\berror|\bcode|\bhresult)"
    r"[\"']?\s*(?:[:=#]|-\s)?\s*[\"']?\s*$"
)
_HEX_ID = re.compile(r"(?<![0-9a-z])0x([0-9a-f]{4,8})(?![0-9a-z])")
_HEX_LABEL = re.compile(r"(?:\[|error\s*(?:code)?\s*[:=]?\s*|\bcode\s*[:=]?\s*|hr\s*=\s*)$")
# Label kinds strong enough on their own for a short id; the others need backup context.
_STRONG = ("(", "error id")


class NumericIndex:
    """Every numeric and hexadecimal id of the knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        # id -> (entry, the code to answer: the id itself when it is one of the entry's codes)
        self._decimal: dict[int, tuple[Entry, str]] = {}
        self._hex: dict[int, tuple[Entry, str]] = {}
        for entry in kb.entries:
            for code in entry.all_codes:
                if _DECIMAL.match(code):
                    self._decimal.setdefault(int(code), (entry, code))
                elif _HEX.match(code.lower()):
                    self._hex.setdefault(int(code[2:], 16), (entry, code))
            for number in entry.numeric_codes:
                self._decimal.setdefault(number, (entry, entry.code))

    def evidence(self, paste: Paste) -> list[Evidence]:
        """Every known id the paste shows, scored by how clearly it is labelled."""
        found: list[Evidence] = []
        if self._decimal and _DIGITS.search(paste.low):
            found += self._decimals(paste)
        if self._hex and "0x" in paste.low:
            found += self._hexes(paste)
        return found

    def _decimals(self, paste: Paste) -> list[Evidence]:
        found: list[Evidence] = []
        alone = len(paste.terms) == 1  # the paste is the id: "100050"
        low = paste.low
        for m in _NUMBER.finditer(low):
            hit = self._decimal.get(int(m.group()))
            if hit is None:  # most numbers are no id: the label is read only for known ones
                continue
            start, digits = m.start(), m.group()
            label = _LABEL.search(low, max(0, start - 24), start)
            if label is not None:
                strong = len(digits) >= 5 or label.group(1).startswith(_STRONG)
                score = LABELLED if strong or paste.context else UNLABELLED
            elif (
                len(digits) >= 5
                and (alone or paste.context)
                and (start == 0 or low[start - 1] not in ".:/-")
            ):
                score = LABELLED if alone else UNLABELLED
            else:
                continue
            found.append(_evidence(hit, score, m.span()))
        return found

    def _hexes(self, paste: Paste) -> list[Evidence]:
        found: list[Evidence] = []
        alone = len(paste.terms) <= 2  # the paste is the code ("0x80070005", "hr 0x...")
        # A hexadecimal code is no chatter: a job, a restore or a workload's name backs it.
        backed = alone or paste.context or paste.support or bool(workloads(paste.low, named=True))
        for m in _HEX_ID.finditer(paste.low):
            hit = self._hex.get(int(m.group(1), 16))
            if hit is None:
                continue
            before = paste.low[max(0, m.start() - 16) : m.start()]
            strong = backed or _HEX_LABEL.search(before) is not None
            found.append(_evidence(hit, LABELLED if strong else UNLABELLED, m.span()))
        return found


def _evidence(hit: tuple[Entry, str], score: float, span: tuple[int, int]) -> Evidence:
    return Evidence(hit[0], hit[1], "numeric_code", score, span)
