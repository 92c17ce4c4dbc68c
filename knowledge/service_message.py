"""What a paste shows next to an error code: the service's own message and the operation.

JSON (``az backup job show``, Resource Manager errors), ``az`` CLI errors, PowerShell lists,
portal copies and Terraform/Go errors. Pure; bounded in time and size whatever the paste holds:
only its first 64 KiB are read, no regex can backtrack over a run of blanks, and what comes back
is cleaned of control characters and shortened.
"""

from __future__ import annotations

import re

__all__ = ["MAX_MESSAGE", "MAX_OPERATION", "operation", "service_message"]

MAX_MESSAGE = 500  # characters of the service's message quoted back
MAX_OPERATION = 60

_MAX_SCAN = 64 * 1024  # what the matcher reads of a paste
_AFTER, _BEFORE, _OCCURRENCES = 1200, 400, 10
_MSG_KEY = r"(?:error[ _]?string|error[ _]?message|detailed[ _]?message|message)"
# Runs of blanks are possessive (*+): a paste of a million tabs must not make a regex backtrack.
# A string longer than 4,000 characters is read up to there (and shortened later).
_JSON_MSG = re.compile(rf'"{_MSG_KEY}"\s*+:\s*+"((?:[^"\\\n]|\\.){{1,4000}})', re.IGNORECASE)
_INLINE_MSG = re.compile(r'\bMessage\s*+=\s*+"((?:[^"\\\n]|\\.){1,4000})', re.IGNORECASE)
_SEP = r"(?:[ \t*]*+[:|=]|\t)[ \t:|=]*+"  # "Message: x", "Message | x", "Message\tx", 'Message="x"'
_LINE_MSG = re.compile(rf"(?im)^[ \t>*_|]*+(?:error[ \t]*+)?message{_SEP}(\S[^\n]{{0,4000}})")
_LABEL_MSG = re.compile(
    r"(?im)^[ \t>*_|]*+(?:error[ \t]*+)?message[ \t*:]*+\n[ \t>]*+(\S[^\n]{0,4000})"
)
_CODE_KEY = re.compile(r"(?i)[\"']?\b(?:error[ _]?)?code[\"']?[ \t*]*+[:=|]")
_KEY_AT_END = re.compile(r"(?i)[\"']?\b\w*code[\"']?\s*+[:=|]?\s*+[\"'(]?\s*+$")
# Control characters (terminal escapes), zero-width and bidirectional marks, line separators.
_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")
_ESCAPES = {"n": " ", "r": " ", "t": " ", '"': '"', "\\": "\\", "/": "/"}


def service_message(code: str, paste: str) -> str | None:
    """The message the paste shows beside ``code`` (nearest after it, else just before it)."""
    text = paste[:_MAX_SCAN]
    at = re.compile(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![A-Za-z0-9])", re.IGNORECASE)
    for n, hit in enumerate(at.finditer(text)):
        if n >= _OCCURRENCES:
            break
        start, end = hit.span()
        if text[start - 1 : start] == "(" and text[end : end + 1] == ")":  # az CLI: (Code) message
            found = re.match(r"\)[ \t]*+(\S[^\n]{0,4000})", text[end : end + 4100])
            if found and (msg := _clean(found[1], code)):
                return msg
        after = text[end : end + _AFTER]
        if (stop := _CODE_KEY.search(after)) is not None:
            after = after[: stop.start()]  # the next error's code starts another error
        for pattern in (_JSON_MSG, _INLINE_MSG, _LINE_MSG, _LABEL_MSG):
            found = pattern.search(after)
            if found and (msg := _clean(found[1], code)):
                return msg
        if (msg := _before(text[max(0, start - _BEFORE) : start], code)) is not None:
            return msg
        found = re.match(r"[\"']?[ \t]*+(?::|-|–)[ \t]++(\S[^\n]{0,4000})", text[end : end + 4100])
        if found and (msg := _clean(found[1], code)):  # "Code: message" on one line
            return msg
    return None


def _before(window: str, code: str) -> str | None:
    """A message written before its code in the same object (``{"errorString": …, "errorCode"``)."""
    last = None
    for pattern in (_JSON_MSG, _LINE_MSG):
        for found in pattern.finditer(window):
            if last is None or found.end() > last.end():
                last = found
    if last is None:
        return None
    between = _KEY_AT_END.sub("", window[last.end() :])
    if _CODE_KEY.search(between) or "{" in between or "}" in between:
        return None
    return _clean(last[1], code)


def _clean(raw: str, code: str) -> str | None:
    text = re.sub(r"\\(u[0-9a-fA-F]{4}|.)", _unescape, raw) if "\\" in raw else raw
    text = _SPACE.sub(" ", _JUNK.sub(" ", text)).strip().strip("\"'`,;").strip()
    if len(text) < 3 or text.casefold() == code.casefold() or not re.search(r"[^\W\d_]", text):
        return None
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1].rstrip() + "…"


def _unescape(found: re.Match[str]) -> str:
    esc = found[1]
    if len(esc) == 5:
        point = int(esc[1:], 16)
        return "" if 0xD800 <= point <= 0xDFFF else chr(point)  # a lone surrogate cannot be sent
    return _ESCAPES.get(esc, esc)


_OP_FIELD = re.compile(
    r'(?im)"(?:operation|operationCategory|operationName)"\s*+:\s*+"([^"\n]{1,200})'
    rf"|^[ \t]*+Operation(?:[ \t]*+name)?{_SEP}(\S[^\n]{{0,200}})"
)
_OP_COMMAND = re.compile(
    r"\b(az[ \t]++(?:backup|dataprotection)(?:[ \t]++[a-z][a-z-]{1,40}){1,3})"
    r"|\b((?:Get|Set|New|Remove|Enable|Disable|Restore|Backup|Start|Stop|Register|Unregister|"
    r"Undo|Update|Initialize|Edit|Suspend|Resume|Test|Search)-Az(?:RecoveryServices|DataProtection)"
    r"[A-Za-z]{1,60})",
    re.IGNORECASE,
)
_OP_WORDS = re.compile(  # "backup failed" alone says too little to name an operation
    r"(?i)\b(?!backup[ \t]+failed)(configure backup|enable backup|stop backup|disable backup|"
    r"delete backup data|cross[- ]region restore|file recovery|restore|backup|"
    r"(?:backup )?policy (?:update|creation|change|assignment)|re-?register|register|unregister)"
    r"[ \t]+(?:job|operation|failed)\b"
)
_OP_JOBTYPE = re.compile(
    r'(?im)"job_?type"\s*+:\s*+"([^"\n]{1,200})'
    rf"|^[ \t]*+Job[ \t]*+type{_SEP}(\S[^\n]{{0,200}})"
)


def operation(paste: str) -> str | None:
    """The operation the paste shows: a field, then a command or cmdlet, a job phrase, jobType."""
    text = paste[:_MAX_SCAN]
    for pattern in (_OP_FIELD, _OP_COMMAND, _OP_WORDS, _OP_JOBTYPE):
        for found in pattern.finditer(text):
            value = next((g for g in found.groups() if g), "")
            value = _SPACE.sub(" ", _JUNK.sub(" ", value)).strip().strip("\"',;")
            if re.search(r"[A-Za-z]", value):
                return value if len(value) <= MAX_OPERATION else value[: MAX_OPERATION - 1] + "…"
    return None
