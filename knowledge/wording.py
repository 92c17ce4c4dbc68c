"""How operators write about Azure Backup errors, folded so a paste meets an entry's own words.

Shorthand and synonyms ("rg" and "resource group", "perms" and "permissions", "保存庫" and
"vault") are folded to one form on both sides; codes are split into their words
(``UserErrorSnapshotRGNotFound`` -> user, error, snapshot, rg, not, found). The paste's words
also say whether it speaks of Azure Backup at all: backup words, Azure or workload words,
something gone wrong, another vendor's product.
"""

from __future__ import annotations

import re

from knowledge.evidence import Paste
from knowledge.text import STOPWORDS, terms

__all__ = [
    "WORKLOAD_NAMES",
    "backupish",
    "code_words",
    "comparable",
    "context",
    "describes",
    "fold",
    "trouble",
    "words",
]

# How operators write, folded to one form on both sides. Phrases first (longest first), then
# single words after stemming. zh-TW terms become the English word so mixed pastes meet either.
_PHRASES = {
    "resource group": "rg",
    "resource groups": "rg",
    "resourcegroup": "rg",
    "managed identity": "msi",
    "managed identities": "msi",
    "managed service identity": "msi",
    "availability group": "ag",
    "availability groups": "ag",
    "key vault": "keyvault",
    "storage account": "storageaccount",
    "storage accounts": "storageaccount",
    "file share": "fileshare",
    "file shares": "fileshare",
    "recovery point": "rp",
    "recovery points": "rp",
    "restore point": "rp",
    "restore points": "rp",
    "single container": "sdc",
    "multiple container": "mdc",
    "multitenant": "mdc",
    "multi-tenant": "mdc",
    "active directory": "entra",
    "customer-managed key": "cmk",
    "customer managed key": "cmk",
    "azure disk encryption": "ade",
    "cross-region restore": "crr",
    "cross region restore": "crr",
    "original location": "olr",
    "alternate location": "alr",
    "log chain": "logchain",
    "data lake storage": "adls",
    "data lake": "adls",
    "sql server": "sql",
    "sap hana": "hana",
    "sap ase": "ase",
    "point-in-time": "pitr",
    "point in time": "pitr",
    "金鑰保存庫": " keyvault ",
    "保存庫": " vault ",
    "快照集": " snapshot ",
    "快照": " snapshot ",
    "資源群組": " rg ",
    "虛擬機器": " vm ",
    "訂用帳戶": " subscription ",
    "權限": " permission ",
    "備份": " backup ",
    "還原點": " rp ",
    "復原點": " rp ",
    "還原": " restore ",
    "磁碟": " disk ",
    "儲存體帳戶": " storageaccount ",
    "檔案共用": " fileshare ",
    "受控識別": " msi ",
    "延伸模組": " extension ",
    "代理程式": " agent ",
    "資料庫": " database ",
    "原則": " policy ",
    "封存": " archive ",
    "容器": " container ",
    "鎖定": " lock ",
    "加密": " encrypt ",
    "金鑰": " key ",
    "認證": " credential ",
    "憑證": " certificate ",
}
_PHRASE = re.compile("|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True)))
_WORDS = {
    "sub": "subscription",
    "subs": "subscription",
    "perm": "permission",
    "perms": "permission",
    "permissions": "permission",
    "db": "database",
    "dbs": "database",
    "databas": "database",
    "identiti": "identity",
    "aad": "entra",
    "cred": "credential",
    "creds": "credential",
    "credentials": "credential",
    "ext": "extension",
    "extensions": "extension",
    "cert": "certificate",
    "certs": "certificate",
    "config": "configure",
    "configur": "configure",
    "configuration": "configure",
    "rgs": "rg",
    "vms": "vm",
    "snapshott": "snapshot",
    "locked": "lock",
    "deleted": "delete",
    "delet": "delete",
    "exist": "exist",
    "exists": "exist",
    "found": "find",
    "find": "find",
    "throttl": "throttle",
    "throttled": "throttle",
    "rehydrat": "rehydrate",
    "rehydration": "rehydrate",
    "encrypted": "encrypt",
    "encryption": "encrypt",
    "hanalsn": "hana lsn",
    "sqllsn": "sql lsn",
    "aselsn": "ase lsn",
}
# How people talk around an error ("we", "still", "last month", "saying"): rare in the entries'
# text, so they would weigh like its rarest words; they describe nothing. Negations stay.
_CHAT = frozenset(
    {
        *("i", "me", "my", "we", "us", "our", "ours", "you", "your", "they", "them", "their"),
        *("he", "she", "his", "her", "him", "someone", "somebody", "anyone", "everyone"),
        *("what", "which", "who", "whom", "whose", "when", "where", "why", "how", "if", "then"),
        *("than", "so", "but", "also", "just", "still", "yet", "even", "only", "very", "really"),
        *("there", "here", "these", "those", "some", "any", "all", "each", "every", "both"),
        *("am", "being", "having", "doing", "could", "might", "must", "shall", "got", "get"),
        *("gets", "getting", "keep", "keeps", "kept", "seem", "seems", "said", "say", "says"),
        *("saying", "tried", "try", "trying", "tri", "know", "think", "thought", "want"),
        *("need", "needs", "now", "today", "yesterday", "week", "weeks", "month", "months"),
        *("day", "days", "last", "ago", "since", "again", "anymore", "ever", "thanks", "thank"),
        *("hi", "hello", "hey", "pls", "plz", "anyone", "idea", "ideas", "help", "question"),
        *("one", "two", "three", "first", "second", "other", "same", "like", "about", "into"),
        *("after", "before", "during", "while", "because", "though", "although", "until"),
        *("ok", "okay", "yes", "yeah", "lol", "fine", "sure", "guess", "maybe", "perhaps"),
        *("see", "sees", "seeing", "saw", "seen", "look", "looks", "looking", "happen"),
    }
)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# Context, read from the folded words ("key vault" is no vault, "Commvault" none either).
_BACKUP_WORDS = frozenset({"backup", "restore", "restor", "vault", "rp", "rehydrate", "mars"})
_BACKUP_PARTS = ("recovery services", "recoveryservices", "dataprotection", "vmsnapshot")
_AZURE_WORDS = frozenset(
    {
        *("azure", "vault", "rsv", "entra", "az", "portal", "subscription", "rg", "msi"),
        *("sql", "hana", "ase", "sybase", "mars", "dpm", "mabs", "fileshare", "blob"),
        *("adls", "aks", "postgresql", "postgres", "mysql", "storageaccount", "keyvault"),
    }
)
# Words that only name a workload: the workload weighs entries (WORKLOAD_FIT), and an entry
# that merely mentions "Data Lake" or "HANA" is not thereby described.
WORKLOAD_NAMES = frozenset(
    {
        *("sql", "mssql", "sqlserver", "hana", "saphana", "ase", "sybase", "mars", "dpm"),
        *("mabs", "adls", "aks", "kubernetes", "postgresql", "postgres", "mysql", "azure"),
    }
)

# A description of an error says something went wrong: chat about a setting is no error.
_TROUBLE_WORDS = frozenset(
    {
        *("fail", "fails", "failure", "error", "not", "no", "cannot", "unable", "denied"),
        *("refus", "refuse", "invalid", "missing", "broken", "broke", "stuck", "exceed"),
        *("timeout", "timed", "warning", "warn", "limit", "full", "corrupt", "disallow"),
        "already",
    }
)
_TROUBLE_PARTS = (
    "失敗",
    "錯誤",
    "無法",
    "不能",
    "拒絕",
    "找不到",
    "不存在",
    "不支援",
    "沒有",
    "逾時",
)
# Other backup products describe their errors in the same words ("immutability", "snapshot",
# "repository"): a paste naming one is theirs, unless a code or a message says otherwise.
_OTHER_PRODUCTS = (
    *("veeam", "commvault", "netbackup", "rubrik", "cohesity", "acronis", "arcserve", "nakivo"),
    *("datto", "backup exec", "aws backup", "backup and dr", "restic", "borg ", "proxmox"),
    *("macrium", "time machine", "hyper backup", "zerto", "druva", "unitrends", "kasten"),
)
# The same, read as substrings before any word is folded (a superset of the words above).
_TROUBLE_HINTS = (
    *("fail", "error", "not", "no ", "unable", "cannot", "denied", "refus", "invalid"),
    *("missing", "broke", "stuck", "exceed", "time", "warn", "limit", "full", "corrupt"),
    *("disallow", "already", *_TROUBLE_PARTS),
)
_MAY_DESCRIBE = ("recovery point", "restore point", "rehydrat", "archive", "還原點", "復原點")
# "Recovery point" is Azure Backup's own term (other products say restore point or snapshot).
_AZURE_PARTS = ("/subscriptions/", "recovery services", "microsoft.", "recovery point")


def words(text: str) -> list[str]:
    """The comparable words of a text, shorthand folded (stopwords, lone letters, numbers and
    ids dropped: a description is told by its words, and numbers have their own index)."""
    return [w for w in _folded(_PHRASE.sub(_fold, text.lower())) if _wordy(w)]


def _folded(low: str) -> list[str]:
    out: list[str] = []
    for term, _, _ in terms(low):
        alias = _WORDS.get(term)
        if alias is None:
            out.append(term)
        else:
            out.extend(alias.split(" "))
    return out


def _wordy(w: str) -> bool:
    return len(w) > 1 and w.isalpha() and w not in STOPWORDS and w not in _CHAT


def code_words(code: str) -> list[str]:
    """A code's words: ``UserErrorSnapshotRGNotFound`` -> user, error, snapshot, rg, not, found."""
    return words(" ".join(_CAMEL.findall(code)))


def _fold(m: re.Match[str]) -> str:
    return f" {_PHRASES[m.group()].strip()} "


def _fold_same(m: re.Match[str]) -> str:
    """The folded form padded to the phrase's length: spans stay spans of the paste."""
    short = _PHRASES[m.group()].strip()
    return f" {short}".ljust(len(m.group())) if len(short) < len(m.group()) else _fold(m)


def describes(paste: Paste) -> bool:
    """Cheap: the paste may describe an Azure Backup error (backup, restore, a recovery point,
    a job... and something gone wrong); other chat is not read for descriptions at all."""
    low = paste.low
    return (paste.context or paste.support or any(p in low for p in _MAY_DESCRIBE)) and any(
        p in low for p in _TROUBLE_HINTS
    )


def fold(low: str) -> tuple[str, list[tuple[str, int, int]]]:
    """A lower-cased paste with its shorthand folded, and its folded words with their spans."""
    folded = _PHRASE.sub(_fold_same, low)
    found: list[tuple[str, int, int]] = []
    for term, start, end in terms(folded):
        alias = _WORDS.get(term)
        if alias is None:
            found.append((term, start, end))
        else:
            found.extend((w, start, end) for w in alias.split(" "))
    return folded, found


# Resource ids, URLs and GUIDs name things; their path words ("subscriptions", "providers",
# "microsoft.compute") describe no error and must not make a paste read like one that does.
_OPAQUE = re.compile(
    r"/subscriptions/[^\s\"'<>|,;)]*|https?://[^\s\"'<>|]*"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)


def opaque_spans(low: str) -> list[tuple[int, int]]:
    """Where a lower-cased paste holds resource ids, URLs and GUIDs, in order."""
    return [m.span() for m in _OPAQUE.finditer(low)]


def comparable(word: str) -> bool:
    """A word worth comparing: not a stopword, a lone letter, a number or an id."""
    return _wordy(word)


def trouble(low: str, present: set[str]) -> bool:
    """The paste says something went wrong (a setting discussed in chat is no error)."""
    return bool(present & _TROUBLE_WORDS) or any(p in low for p in _TROUBLE_PARTS)


def backupish(low: str, present: set[str]) -> bool:
    """The paste speaks of a backup, a restore, a vault or a recovery point, not another
    vendor's product."""
    if any(p in low for p in _OTHER_PRODUCTS):
        return False
    return bool(present & _BACKUP_WORDS) or any(p in low for p in _BACKUP_PARTS)


def context(low: str, present: set[str], named: frozenset[str]) -> bool:
    """Azure Backup context: something went wrong, backup words, and an Azure word, a resource
    id or a workload."""
    return (
        trouble(low, present)
        and backupish(low, present)
        and (bool(named) or bool(present & _AZURE_WORDS) or any(p in low for p in _AZURE_PARTS))
    )
