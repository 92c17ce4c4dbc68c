"""The shape of an Azure Backup error code: its CamelCase words, and what a typo may change.

Codes are sentences in CamelCase (``UserError`` + ``GuestAgent`` + ``Status`` + ``Unavailable``).
A typo stays inside one of those words (``Unavailible``, ``Erorr``); a different code adds, drops
or swaps whole words (``UserErrorDBNotFound`` is not ``UserErrorPVNotFound``, ``StateUnavailable``
is not ``StatusUnavailable``). The vocabulary of the words known codes use tells the two apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz.distance import OSA, Levenshtein

# "BMSUserError" -> BMS, User, Error; "BCMV2VMNotFound" -> BCMV, 2, VM, Not, Found.
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+|[0-9]+")

# Families a code starts with; "UserError" may also sit inside or at the end
# (DppUserErrorVaultTierPolicyNotSupported, PostgreSQLFlexOperationFailedUserError).
_STRONG_START = ("usererror", "bmsusererror", "dppusererror")
_FAMILY_START = (
    *("cloud", "dpp", "extension", "guestagent", "workload", "wlext", "sal", "cbp", "bcm"),
    *("crp", "backup", "datamover", "datatransferservice", "afs", "kubernetesbackup"),
    *("fabricsvc", "dpm", "mab", "vaultmove", "backupvault"),
)
# The last words of a code that reports a failure ("...NotFound", "...LimitReached").
_ENDINGS = frozenset(
    {
        *("error", "errors", "failed", "failure", "found", "supported", "allowed", "present"),
        *("ready", "enabled", "installed", "reachable", "configured", "timeout", "out"),
        *("reached", "exceeded", "denied", "invalid", "mismatch", "progress", "unavailable"),
        *("locked", "state", "expired", "missing", "corrupted", "corrupt", "throttled"),
        *("unreachable", "conflict", "disabled", "unsupported", "valid", "absent", "exist"),
        *("exists", "full", "offline", "unresponsive", "unhealthy", "rejected", "blocked"),
        *("cancelled", "canceled", "notfound", "fault", "exception", "v2", "v3"),
    }
)
# Words any code may use, on top of the knowledge base's own: a paste's word that is one of
# these and differs from the code's word is another word, not a typo of it.
COMMON_WORDS = frozenset(
    {
        *("not", "no", "in", "on", "for", "from", "to", "of", "by", "as", "is", "or", "and"),
        *("found", "state", "status", "deleted", "delete", "deletion", "failed", "failure"),
        *("error", "limit", "reached", "progress", "supported", "allowed", "present", "valid"),
        *("invalid", "enabled", "disabled", "missing", "locked", "lock", "exists", "exist"),
        *("backup", "restore", "vault", "vm", "disk", "disks", "snapshot", "snapshots", "rg"),
        *("db", "sql", "user", "users", "role", "roles", "key", "keys", "account", "accounts"),
        *("operation", "operations", "request", "policy", "permission", "permissions", "data"),
        *("source", "target", "network", "agent", "extension", "service", "server", "file"),
        *("files", "share", "container", "containers", "blob", "blobs", "storage", "point"),
        *("points", "time", "timeout", "type", "types", "name", "names", "size", "count"),
        *("new", "old", "read", "write", "get", "set", "start", "stop", "run", "running"),
    }
)


def split_camel(word: str) -> list[str]:
    """The CamelCase words of an identifier, as written."""
    return _WORD.findall(word)


def vocabulary(codes: Iterable[str]) -> frozenset[str]:
    """Every lower-cased CamelCase word the codes use, and the common ones."""
    words = {w.lower() for code in codes for w in split_camel(code)}
    return frozenset(words | COMMON_WORDS)


def backup_shaped(word: str, vocab: frozenset[str]) -> bool:
    """True for an identifier shaped like an Azure Backup error code (known or not).

    ``UserError...`` (any ending), anything ending in ``UserError``, or a family start (Cloud,
    Dpp, Extension, GuestAgent, Workload, WlExt, Sal, CBP, ...) with a failure ending (Error,
    Failed, NotFound, ...) and mostly words known codes use (``CloudFormationStackFailed`` is
    another cloud's). Plain CamelCase words (``PowerShell``, ``ResourceGroupName``,
    ``VMExtensionProvisioningError``) are not.
    """
    if len(word) < 10 or not word[0].isalpha():
        return False
    low = word.lower()
    if word == low or word == word.upper():  # no CamelCase left: only the strongest start
        return low.startswith(_STRONG_START) and len(low) >= 14
    parts = [p.lower() for p in split_camel(word)]
    if len(parts) < 3:
        return False
    if low.startswith(_STRONG_START) or low.endswith("usererror"):
        return True
    head = "".join(parts[:3])
    if not any(head.startswith(f) and _on_word(parts, len(f)) for f in _FAMILY_START):
        return False
    if not _ENDINGS.intersection(parts[1:]):  # "...FailedNoNetwork", "...NotFound"
        return False
    return 3 * sum(p in vocab or p.isdigit() for p in parts) >= 2 * len(parts)


_FAILURE = _ENDINGS | {"empty", "unknown", "bad", "cannot", "unable", "conflicting", "no"}


def code_like(word: str, vocab: frozenset[str]) -> bool:
    """True for a CamelCase identifier that reports a failure in the words codes use, of no known
    family (``ServiceResourceNotEmpty``): a code where a code stands or beside Azure Backup words.
    """
    if len(word) < 10 or not word[0].isupper() or word in (word.lower(), word.upper()):
        return False
    parts = [p.lower() for p in split_camel(word)]
    if len(parts) < 3 or not _FAILURE.intersection(parts):
        return False
    return 3 * sum(p in vocab or p.isdigit() for p in parts) >= 2 * len(parts)


def _on_word(parts: list[str], length: int) -> bool:
    """True when the first ``length`` letters are whole CamelCase words (Sal, not Salesforce)."""
    total = 0
    for part in parts:
        total += len(part)
        if total >= length:
            return total == length
    return False


def ends_on_failure(code: str, length: int) -> bool:
    """True when the code's first ``length`` letters end on a word that reports a failure."""
    parts = split_camel(code)
    total = 0
    for part in parts:
        total += len(part)
        if total == length:
            return part.lower() in _ENDINGS
        if total > length:
            return False
    return False


def typo_of(code: str, pasted: str, vocab: frozenset[str]) -> bool:
    """True when ``pasted`` differs from ``code`` only by typos inside its CamelCase words.

    Each touched word takes at most one typo (two from five letters), keeps a letter, does not
    turn into another word of the vocabulary (``State`` for ``Status``, ``Rg`` for ``Rp``), is not
    a number (``V3`` is not ``V2``), and no new CamelCase word grows beside it (``...FailedV3``).
    """
    c, p = code.lower(), pasted.lower()
    bounds: list[tuple[int, int]] = []
    pos = 0
    for part in split_camel(code):
        bounds.append((pos, pos + len(part)))
        pos += len(part)
    if pos != len(c) or len(p) != len(pasted):  # not a plain identifier: no structure to read
        return True
    touched = [False] * len(bounds)
    grow = [0] * len(bounds)  # letters inserted minus deleted, to find the word in the paste
    starts = {a for a, _ in bounds}
    for op in Levenshtein.editops(c, p):
        at = op.src_pos
        if op.tag == "insert" and at > 0 and (at == len(c) or at in starts):
            # Letters added at a word boundary belong to the word before ("Agents")...
            new = pasted[op.dest_pos]
            if new.isupper() or new.isdigit():
                return False  # ... unless they start a new CamelCase word
            at -= 1
        i = _word_at(bounds, at)
        touched[i] = True
        grow[i] += 1 if op.tag == "insert" else -1 if op.tag == "delete" else 0
    shift = 0
    for i, (a, b) in enumerate(bounds):
        if touched[i]:
            word, seg = c[a:b], p[a + shift : b + shift + grow[i]]
            if not seg or word.isdigit() or OSA.distance(word, seg) > (2 if b - a >= 5 else 1):
                return False
            if seg in vocab and seg.rstrip("s") != word.rstrip("s"):
                return False  # another word the codes use
            written = pasted[a + shift : b + shift + grow[i]]
            if code[a:b].isupper() and written.isupper() and sorted(seg) != sorted(word):
                return False  # another acronym: ALR is not OLR (MV is VM typed fast)
        shift += grow[i]
    return True


def _word_at(bounds: list[tuple[int, int]], at: int) -> int:
    for i, (a, b) in enumerate(bounds):
        if a <= at < b:
            return i
    return len(bounds) - 1
