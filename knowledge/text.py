"""Turn a paste of any shape into plain words the matcher can compare.

Pastes arrive as Slack markdown, code fences, JSON with escaped quotes (sometimes twice), ``az``
CLI output, PowerShell tables and logs. Everything here is linear in the paste's length.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

MAX_PASTE_BYTES = 64 * 1024

_JSON_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SLACK_LINK = re.compile(r"<([^<>|\s]+)\|([^<>]*)>|<([^<>|\s]+)>")
_MARKUP = re.compile(r"[*_~`\u200b\ufeff]+")
_QUOTE = re.compile(r"(?m)^[ \t]*(?:>|&gt;)+")
_SPACE = re.compile(r"\s+")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&amp;", "&"))
_CONTRACTION = re.compile(r"(?i)n['’]t\b")

# Words: ASCII letters/digits, or runs of CJK ideographs (compared as character bigrams).
_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK_START = "\u3400"
_CAN = frozenset({"can", "ca", "could"})  # "can't" reads "ca not" once the contraction goes

STOPWORDS = frozenset(
    {
        *("a", "an", "the", "to", "of", "for", "in", "on", "at", "by", "as", "is", "are", "be"),
        *("been", "was", "were", "it", "its", "this", "that", "with", "and", "or", "from", "has"),
        *("have", "had", "do", "does", "did", "can", "will", "would", "should", "may", "please"),
    }
)


def cut(text: str) -> tuple[str, bool]:
    """The paste cut to 64 KiB of UTF-8 (never inside a character), and whether it was cut."""
    if len(text) * 4 <= MAX_PASTE_BYTES:  # cheap: cannot be over the limit
        return text, False
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_PASTE_BYTES:
        return text, False
    return raw[:MAX_PASTE_BYTES].decode("utf-8", "ignore"), True


def clean(text: str, *, lines: bool = False) -> str:
    """Undo JSON escapes, Slack entities and links, markup and contractions; fold white space.

    With ``lines``, white space that held a line break folds to one newline instead of a space
    (the same length: a wrapped code is told from words that merely follow each other).
    """
    if "\\" in text:
        for _ in range(3):  # JSON in JSON in JSON: each level doubles the backslashes
            if "\\\\" not in text:
                break
            text = text.replace("\\\\", "\\")
        text = _JSON_UNICODE.sub(_unicode_escape, text)
        newline = "\n" if lines else " "
        for esc, plain in (
            ('\\"', '"'),
            ("\\n", newline),
            ("\\r", " "),
            ("\\t", " "),
            ("\\/", "/"),
        ):
            text = text.replace(esc, plain)
    if "<" in text:  # Slack sends links raw and escapes a literal < as &lt;: links first
        text = _SLACK_LINK.sub(_slack_link, text)
    if ">" in text:
        text = _QUOTE.sub(" ", text)
    if "&" in text:
        for entity, plain in _ENTITIES:
            text = text.replace(entity, plain)
    text = _MARKUP.sub(" ", text)
    if "n't" in text or "n’t" in text or "N'T" in text:
        text = _CONTRACTION.sub(" not", text)  # "isn't" and "is not" should compare equal
    return _SPACE.sub(_fold if lines and "\n" in text else " ", text).strip()


def _fold(m: re.Match[str]) -> str:
    return "\n" if "\n" in m.group() else " "


def tokens(low: str) -> list[str]:
    """Words of a lower-cased text; CJK runs become their character bigrams."""
    out: list[str] = []
    for tok in _TOKEN.findall(low):
        if tok[0] >= _CJK_START:
            out.extend(tok[i : i + 2] for i in range(max(1, len(tok) - 1)))
        else:
            out.append(tok)
    return out


def stem(word: str) -> str:
    """A crude English stem (fails/failed -> fail) so docs and service wordings meet."""
    if len(word) > 5 and word[0] < _CJK_START:
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                return word[: -len(suffix)]
    return word


def terms(low: str) -> list[tuple[str, int, int]]:
    """Stemmed words of a lower-cased text in order, with their spans (stopwords kept)."""
    out: list[tuple[str, int, int]] = []
    for m in _TOKEN.finditer(low):
        tok, start = m.group(), m.start()
        if tok[0] >= _CJK_START:
            out.extend(
                (tok[i : i + 2], start + i, start + i + 2) for i in range(max(1, len(tok) - 1))
            )
        elif tok.startswith("machine") and out and out[-1][0] == "virtual":
            out[-1] = ("vm", out[-1][1], m.end())  # "virtual machine(s)" is what "VM" abbreviates
        elif (tok == "not" and out and out[-1][0] in _CAN) or (
            tok == "able" and out and out[-1][0] == "not"
        ):
            out[-1] = ("cannot", out[-1][1], m.end())  # "can't", "could not", "not able": one word
        elif tok == "unable":
            out.append(("cannot", start, m.end()))
        elif (
            tok == "to"
            and out
            and out[-1][0] == "cannot"
            and low[out[-1][2] - 4 : start] == "able "
        ):
            out[-1] = ("cannot", out[-1][1], m.end())  # "unable to connect": "cannot connect"
        else:
            out.append((stem(tok), start, m.end()))
    return out


def idf(doc_freq: int, n_docs: int) -> float:
    """Inverse document frequency: rare words weigh more."""
    return math.log((n_docs + 1) / (doc_freq + 0.5))


def cjk_share(chars: Iterable[str]) -> tuple[int, int]:
    """Counts of CJK ideographs and of Latin letters."""
    cjk = latin = 0
    for ch in chars:
        if "a" <= ch <= "z" or "A" <= ch <= "Z":
            latin += 1
        elif "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff":
            cjk += 1
    return cjk, latin


def _unicode_escape(m: re.Match[str]) -> str:
    ch = chr(int(m.group(1), 16))
    return " " if "\ud800" <= ch <= "\udfff" else ch


def _slack_link(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return f"{m.group(2)} ({m.group(1)})"
    return m.group(3)
