"""Synthetic knowledge bases of any size for the matcher benchmarks, validated like the real one.

Codes and messages are drawn from the vocabulary real Azure Backup errors use, so that synthetic
messages overlap each other (and the real ones) the way the shipped entries do: many start with
"Snapshot operation failed", many name the VM agent, the vault or a disk. That overlap is what makes
fuzzy matching expensive, so a benchmark on disjoint random words would flatter the matcher.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from knowledge.loader import KnowledgeBase, load_kb
from knowledge.model import Entry


def _words(text: str, *, sep: str = " ") -> tuple[str, ...]:
    """Vocabulary written as prose-like strings: easier to read and extend than long lists."""
    return tuple(text.split(sep))


# Code parts, CamelCase as the service spells them.
_PREFIXES = ("UserError", "Extension", "UserError", "Guest", "Backup", "Vm", "Bcm", "Crp", "")
_NOUNS = _words(
    "Vm Agent Guest Snapshot Disk Vault Rp RestorePoint Policy Keyvault Storage Network "
    "Vss Mount Lock Subscription Tenant Encryption Bitlocker Quota Sku Region "
    "ManagedDisk Provisioning Job Task Schedule Credential Certificate Proxy Dns "
    "Firewall Nsg ResourceGroup Blob Container Instant Crr Olr Identity Role Token "
    "Writer Service Com Msdtc Datasource Collection Extension Drive Volume Kernel Plugin "
    "Script Metadata Tier Archive Replica Zone"
)
_SUFFIXES = _words(
    "Failed NotFound NotSupported LimitReached InBadState Timeout NotConfigured "
    "Unavailable InProgress NotAllowed Mismatch Expired Locked Error Corrupted "
    "Unresponsive Denied Exceeded NotRegistered Invalid"
)
_REASONS = ("NoNetwork", "Com", "Timeout", "Permissions", "NoSpace", "BadState", "Policy", "Lock")

# English message parts: subject, what happened, why (the way the docs word it).
_SUBJECTS = _words(
    "Snapshot operation|The snapshot operation|Backup|The backup job|The VM agent|"
    "VM Agent|The VMSnapshot extension|Extension installation|Restore|"
    "The restore operation|The Recovery Services vault|The restore point collection|"
    "The operation|Copying backed up data|The protection policy|Configure backup|"
    "The guest agent|The backup extension",
    sep="|",
)
_VERBS = _words(
    "failed|could not complete|timed out|was cancelled|is not supported|"
    "cannot be configured|could not be started|was blocked|did not respond|"
    "is unable to communicate|was interrupted",
    sep="|",
)
_LINKS = ("due to", "because of", "as a result of", "since there is", "owing to")
_ADJ = _words(
    "insufficient invalid missing outdated expired locked corrupted unsupported "
    "inconsistent unavailable misconfigured stale conflicting excessive unreachable"
)
_OBJECTS = _words(
    "network connectivity on the virtual machine|permissions to the key vault|"
    "COM+ configuration|VSS writers|storage account quota|restore point collection|"
    "resource group lock|managed disk snapshots|BitLocker drive encryption|"
    "guest agent service|DNS resolution|proxy settings on the VM|"
    "firewall rules for the backup service|Azure Policy assignment|"
    "Visual C++ Redistributable|mount points of the VM|premium storage capacity|"
    "Trusted Launch configuration|cross region restore settings|tenant registration",
    sep="|",
)
_CLAUSES = ("", "", "", " on the virtual machine", " in the vault")
_ADVICE = (
    "",
    "",
    "",
    " Please retry the operation in a few minutes.",
    " For details, see Job Error Message Details.",
    " Ensure that the VM is running and try again.",
)

# zh-TW parts, in the wording of the zh-TW edition of the docs.
_ZH_SUBJECTS = _words(
    "快照集作業|備份作業|VM 代理程式|延伸模組安裝|還原作業|復原服務保存庫|"
    "還原點集合|VMSnapshot 延伸模組|保護原則|來賓代理程式|備份延伸模組",
    sep="|",
)
_ZH_VERBS = _words(
    "失敗|逾時|無法完成|未受支援|已取消|無法啟動|沒有回應|無法與 Azure 備份通訊", sep="|"
)
_ZH_REASONS = _words(
    "虛擬機器沒有網路連線|金鑰保存庫的權限不足|VSS 寫入器處於不良狀態|"
    "儲存體帳戶配額不足|還原點集合已達上限|資源群組已鎖定|受控磁碟快照集過多|"
    "BitLocker 磁碟機加密已鎖定|來賓代理程式服務已停止|DNS 解析失敗|"
    "Proxy 設定不正確|Azure 原則封鎖了作業|"
    "Visual C++ 可轉散發套件安裝失敗|掛接點無法凍結|COM+ 發生錯誤",
    sep="|",
)
_ZH_LINKS = ("，因為", "，原因是", "，由於")
_ZH_PLACES = ("", "", "在虛擬機器上，", "在保存庫中，", "在還原期間，", "在排程備份期間，")
_ZH_TAILS = ("", "", "。請在幾分鐘後重試作業", "。如需詳細資料，請參閱作業錯誤訊息詳細資料")

_STEPS = (
    (
        "Check the VM agent status in the portal and restart the agent.",
        "在入口網站檢查 VM 代理程式狀態並重新啟動代理程式。",
    ),
    ("Remove the lock on the restore point resource group.", "移除還原點資源群組上的鎖定。"),
    ("Run an on-demand backup after fixing the cause.", "修正原因後執行隨選備份。"),
)


def synthetic_kb(n: int, *, seed: int = 0) -> KnowledgeBase:
    """A validated knowledge base of ``n`` entries: the shipped ones plus synthetic ones."""
    real = load_kb()
    rng = random.Random(seed)
    by_code: dict[str, Entry] = dict(real.by_code)
    entries = list(real.entries)
    articles = sorted(real.articles)
    sections = sorted(real.sections)
    seen = {m.text for e in real.entries for m in e.messages}
    while len(entries) < n:
        code = _code(rng)
        if code.casefold() in by_code:
            continue
        entry = Entry.model_validate(_entry_data(rng, code, articles, sections, seen))
        entries.append(entry)
        by_code[code.casefold()] = entry
    return KnowledgeBase(tuple(entries), real.sections, real.articles, by_code)


def _code(rng: random.Random) -> str:
    prefix = rng.choice(_PREFIXES)
    first, second = rng.sample(_NOUNS, 2)
    if prefix == "Extension":
        return f"Extension{first}Failed{rng.choice(_REASONS)}"
    tail = "V2" if rng.random() < 0.03 else ""
    return f"{prefix}{first}{second}{rng.choice(_SUFFIXES)}{tail}"


def english_message(rng: random.Random) -> str:
    """One English error message of 8-20 words in the docs' style."""
    while True:
        text = (
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_LINKS)} "
            f"{rng.choice(_ADJ)} {rng.choice(_OBJECTS)}{rng.choice(_CLAUSES)}.{rng.choice(_ADVICE)}"
        )
        if 8 <= len(text.split()) <= 20:
            return text


def chinese_message(rng: random.Random) -> str:
    """One zh-TW error message of comparable length."""
    place, subject, verb = rng.choice(_ZH_PLACES), rng.choice(_ZH_SUBJECTS), rng.choice(_ZH_VERBS)
    why = f"{rng.choice(_ZH_LINKS)}{rng.choice(_ZH_REASONS)}{rng.choice(_ZH_TAILS)}"
    return f"{place}{subject}{verb}{why}。"


def _unique(make: Callable[[random.Random], str], rng: random.Random, seen: set[str]) -> str:
    # Two entries with the same message cannot be told apart by any matcher; real ones never are.
    while (text := make(rng)) in seen:
        pass
    seen.add(text)
    return text


def _entry_data(
    rng: random.Random, code: str, articles: list[str], sections: list[str], seen: set[str]
) -> dict[str, Any]:
    en = [_unique(english_message, rng, seen) for _ in range(rng.choice((1, 1, 2, 3)))]
    zh = _unique(chinese_message, rng, seen)
    messages: list[dict[str, Any]] = [{"text": t, "lang": "en"} for t in en]
    messages.append({"text": zh, "lang": "zh-TW"})
    step_en, step_zh = rng.choice(_STEPS)
    data: dict[str, Any] = {
        "code": code,
        "workload": "vm",
        "title": {"en": en[0].rstrip("."), "zh-TW": zh.rstrip("。")},
        "messages": messages,
        "summary": {
            "en": f"{en[0]} Synthetic entry for benchmarks.",
            "zh-TW": f"{zh}（基準測試用）",
        },
        "steps": [{"text": {"en": step_en, "zh-TW": step_zh}}],
        "docs": [{"article": rng.choice(articles), "anchor": code.lower()}],
    }
    if sections and rng.random() < 0.3:
        data["causes"] = [{"section": rng.choice(sections)}]
    if rng.random() < 0.2:
        data["numeric_codes"] = [rng.randrange(100000, 999999)]
    return data
