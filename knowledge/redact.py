"""Secrets and identifiers out of pasted text, in time linear in its length.

Every rule starts only where its token can start (a look-behind for the character before it, not
``\\b``, which also fires inside ``a-a-a``) and its repeats are possessive, so a failed attempt
never re-reads what it read: each rule costs one pass over the text whatever the text is. A rule
whose token needs a check a regular expression would do by backtracking (a letter and a digit
somewhere in a key, the last label of a host name) matches the plain run and decides in Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

MAX_SEEN: Final = 8192  # characters of a paste an excerpt is made from; the rest is never read

_Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

# Non-public suffixes: names under them are machines inside someone's network.
_PRIVATE_SUFFIXES: Final = frozenset(
    {"local", "internal", "corp", "lan", "intranet", "localdomain", "private", "arpa"}
)
_BASE64 = r"A-Za-z0-9+/"
_KEY_WORDS = r"password|passwd|pwd|secret|token|key|signature|credential"
_QUOTED = (
    r"\"[^\"\n]{0,256}+\"|'[^'\n]{0,256}+'"  # bounded: an unclosed quote is not read to the end
)


def _long_mixed(m: re.Match[str]) -> str:
    # Long mixed letter-and-digit runs are keys or hashes; error codes are letters only.
    run = m[0]
    has_digit = any(c.isdigit() for c in run)
    return "<token>" if has_digit and any(c.isalpha() for c in run) else run


def _host(m: re.Match[str]) -> str:
    labels = m[0].rstrip(".").lower().split(".")
    return "<host>" if labels[-1] in _PRIVATE_SUFFIXES else m[0]


def _entra_secret(m: re.Match[str]) -> str:
    # The run may end with a sentence's full stop, which is not part of the secret.
    run = m[0].rstrip(".")
    return "<secret>" + m[0][len(run) :] if len(run) <= 40 else m[0]


def _pair(m: re.Match[str]) -> str:
    return f"{m['key']}{m['sep']}<secret>"


def _scheme(m: re.Match[str]) -> str:
    # "Basic authentication" is prose; base64 credentials have a capital, digit or symbol inside.
    token = m["token"]
    if m["scheme"].lower() == "basic" and token[1:].islower() and token.isalpha():
        return m[0]
    return f"{m['scheme']} <secret>"


# Order matters: resource ids and URLs hold GUIDs and tokens, so they go first, whole.
RULES: Final[tuple[_Rule, ...]] = (
    (re.compile(r"(?i)/subscriptions/[^\s\"'<>,;)]++"), "<resource-id>"),
    (re.compile(r"(?i)(?<![a-z])https?://[^\s\"'<>]++"), "<url>"),
    (re.compile(r"(?<![A-Za-z0-9-])(?:xox[abeposr]|xapp)-[A-Za-z0-9-]++"), "<token>"),
    (re.compile(r"(?<![\w-])eyJ[\w-]{8,}+\.[\w-]++\.[\w-]*+", re.ASCII), "<token>"),
    # Entra ID client secrets: three characters, a digit, "Q~", then 31 to 34 more.
    (re.compile(r"(?<![\w~.-])[\w~.-]{3}\dQ~[\w~.-]{31,}+", re.ASCII), _entra_secret),
    # An Authorization header keeps its name; scheme and credentials go (Bearer and Basic below).
    (
        re.compile(
            r"(?i)(?<![\w-])(authorization\s*+[:=]\s*+)(?!(?:bearer|basic)\s)"
            r"[^\s\"',;]++(?:\s++[^\s\"',;]++)?"
        ),
        r"\1<secret>",
    ),
    (
        re.compile(
            r"(?i)(?<![\w-])(?P<scheme>bearer|basic)\s++(?P<token>[\w+/=.~-]{8,}+)", re.ASCII
        ),
        _scheme,
    ),
    # key=value and key: value pairs; a connection string's value runs to its ";".
    (
        re.compile(
            r"(?i)(?<!\w)(?P<key>\w*?(?:" + _KEY_WORDS + r")|sig|sas)(?P<sep>[\"']?\s*+=\s*+)"
            r"(?:" + _QUOTED + r"|[^\s\"';&][^;&\n\"']{0,128}+(?=;)|[^\s\"',;&]++)"
        ),
        _pair,
    ),
    (
        re.compile(
            r"(?i)(?<!\w)(?P<key>\w*?(?:" + _KEY_WORDS + r"))(?P<sep>[\"']?\s*+:\s*+)"
            r"(?:" + _QUOTED + r"|[^\s\"',;&]++)"
        ),
        _pair,
    ),
    (re.compile(r"(?<![" + _BASE64 + r"])[" + _BASE64 + r"]{86}==(?!=)"), "<secret>"),
    (re.compile(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<guid>"),
    (re.compile(r"(?i)(?<![\w.%+-])[\w.%+-]++@[a-z0-9-]++(?:\.[a-z0-9-]++)++"), "<email>"),
    (re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])"), "<ip>"),
    (
        re.compile(
            r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?"
        ),
        "<ip>",
    ),
    (re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"), "<ip>"),
    # A UNC path's machine name, then names under a suffix that only resolves inside a network.
    (re.compile(r"(?<!\\)\\\\[^\\/\s\"'<>|:*?]++"), r"\\\\<host>"),
    (re.compile(r"(?i)(?<![\w.-])[a-z0-9-]++(?:\.[a-z0-9-]++)++\.?+(?![\w-])"), _host),
    (re.compile(r"<@[UW][A-Z0-9]++(?:\|[^<>]*+)?>"), "<user>"),
    (re.compile(r"(?<![\w+/-])[\w+/-]{32,}+=*+", re.ASCII), _long_mixed),
)
_SPACE = re.compile(r"\s+")


def redact(text: str) -> str:
    """``text`` with identifiers and secrets replaced by placeholders (linear time)."""
    for pattern, placeholder in RULES:
        text = pattern.sub(placeholder, text)
    return text


def redact_excerpt(text: str, *, limit: int) -> str:
    """The first ``limit`` characters of ``text`` with identifiers and secrets replaced."""
    if len(text) > MAX_SEEN:
        # The last word may be a secret cut in two, which no rule would recognise: drop it.
        text = text[:MAX_SEEN].rsplit(None, 1)[0] if text[MAX_SEEN].strip() else text[:MAX_SEEN]
    # Redact before cutting: a cut through a GUID or token would leave part of it unrecognised.
    text = _SPACE.sub(" ", redact(text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
