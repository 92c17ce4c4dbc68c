"""The fixed sentences users see when an action fails or is refused (never ``str(exc)``).

Every sentence exists in both languages the bot answers in. ``{name}`` placeholders take raw
text: these sentences go out as plain text or through ``notice_reply``, which escapes them.
"""

from __future__ import annotations

import re
from typing import Final

from actions.approvals import Refusal
from actions.errors import (
    AzureAuthError,
    AzureConflict,
    AzureError,
    AzureForbidden,
    AzureNotFound,
    AzureThrottled,
    AzureTimeout,
    AzureUnavailable,
    NotAllowed,
)
from knowledge.model import Lang

Sentences = dict[str, dict[Lang, str]]

REFUSALS: Final[dict[Refusal, dict[Lang, str]]] = {
    Refusal.NOT_APPROVER: {
        "en": "Only the configured approvers can decide this request.",
        "zh-TW": "只有設定的核准者可以決定這項要求。",
    },
    Refusal.OWN_REQUEST: {
        "en": "You asked for this change, so someone else has to approve it.",
        "zh-TW": "這項變更是你要求的，所以必須由其他人核准。",
    },
    Refusal.EXPIRED: {
        "en": "This request has expired; ask for the change again if it is still needed.",
        "zh-TW": "這項要求已到期；如果仍需要這項變更，請重新要求。",
    },
    Refusal.TAMPERED: {
        "en": "This button does not match a request I know, so I ignored it.",
        "zh-TW": "這個按鈕不符合我所知道的任何要求，所以我忽略了它。",
    },
    Refusal.ALREADY_DECIDED: {
        "en": "This request has already been decided.",
        "zh-TW": "這項要求已經有人決定了。",
    },
    Refusal.WRONG_CHANNEL: {
        "en": "Decide this request on its own approval card, in the thread where it was asked.",
        "zh-TW": "請在提出要求的討論串中，使用這項要求本身的核准卡片來決定。",
    },
}

SENTENCES: Final[Sentences] = {
    "audit_refused": {
        "en": "The audit trail is only for the configured approvers.",
        "zh-TW": "只有設定的核准者可以查看稽核記錄。",
    },
    "no_azure": {
        "en": "Azure actions are off here: no Recovery Services vault is configured.",
        "zh-TW": "這裡未啟用 Azure 動作：沒有設定任何復原服務保存庫。",
    },
    "not_action_channel": {
        "en": "Azure actions are not available in this channel (BACKUP_FIX_ACTION_CHANNELS); "
        "ask in one of the channels set up for them.",
        "zh-TW": "此頻道未開放 Azure 動作 (BACKUP_FIX_ACTION_CHANNELS)；請到為其設定的頻道提出。",
    },
    "vm_change_refused": {
        "en": "A change was already requested in this thread, so only its requester or an "
        "approver may change the thread's VM.",
        "zh-TW": "此討論串中已有人要求變更，因此只有要求者或核准者可以變更此討論串的虛擬機器。",
    },
    "not_signed": {
        "en": "Remediations are off: BACKUP_FIX_SIGNING_KEY is not set.",
        "zh-TW": "補救動作已停用：未設定 BACKUP_FIX_SIGNING_KEY。",
    },
    "unknown_action": {
        "en": "This button names an action I don't have, so I ignored it.",
        "zh-TW": "這個按鈕指向我沒有的動作，所以我忽略了它。",
    },
    "busy": {
        "en": "I'm busy with other requests right now; please try again in a minute.",
        "zh-TW": "我目前正在處理其他要求，請稍候一分鐘再試一次。",
    },
    "jobs_skipped": {
        "en": "This paste names {count} more backup jobs; I read only the first {read}. "
        "Skipped: {jobs}",
        "zh-TW": "這段內容還提到 {count} 個備份作業；我只讀取了前 {read} 個。已略過：{jobs}",
    },
    "vm_not_allowed": {
        "en": "VM {name} is not protected by a vault this bot may use (BACKUP_FIX_VAULTS), "
        "so I won't read or change it.",
        "zh-TW": "虛擬機器 {name} 不受此 bot 可使用的保存庫保護 (BACKUP_FIX_VAULTS)，"
        "所以我不會讀取或變更它。",
    },
    "failed_with_ref": {"en": "{sentence} Reference: {ref}", "zh-TW": "{sentence} 參考編號：{ref}"},
    "with_correlation": {
        "en": "{sentence} Correlation id: {corr}.",
        "zh-TW": "{sentence} 相互關聯識別碼：{corr}。",
    },
    "azure_failed": {"en": "The Azure call failed.", "zh-TW": "Azure 呼叫失敗。"},
    "our_failure": {
        "en": "Sorry, something went wrong on my side.",
        "zh-TW": "抱歉，我這邊發生錯誤。",
    },
    "job_finished": {
        "en": "Backup job {job} finished: {status}.",
        "zh-TW": "備份作業 {job} 已結束：{status}。",
    },
    "job_still_running": {
        "en": "Backup job {job} is still running; I stopped watching it. Check the portal.",
        "zh-TW": "備份作業 {job} 仍在執行中；我已停止追蹤。請到 Azure 入口網站查看。",
    },
    "not_started": {
        "en": "{action} was approved but never started: the bot was down longer than an "
        "approval lasts. Nothing was changed in Azure; ask again if still needed.",
        "zh-TW": "{action} 已核准但從未開始：bot 停止運作的時間超過核准的有效期限。"
        "Azure 中沒有任何變更；如果仍需要，請重新要求。",
    },
    "interrupted": {
        "en": "{action} was interrupted: the bot replica running it stopped before Azure "
        "answered. Whether the change happened is not known, and I will not repeat it blindly. "
        "Check {check}, then ask again if it is still needed.",
        "zh-TW": "{action} 被中斷：執行它的 bot 執行個體在 Azure 回應前就停止了。無法得知變更是否"
        "已發生，我不會盲目重做。請檢查{check}，如果仍需要再重新要求。",
    },
    "confirmed_backup": {
        "en": "Backup of {entity} started (confirmed after the replica running it stopped).",
        "zh-TW": "{entity} 的備份已開始 (在執行它的執行個體停止後確認)。",
    },
    "not_your_request": {
        "en": "Only the person who asked for this change can change its parameters.",
        "zh-TW": "只有提出這項變更要求的人可以變更它的參數。",
    },
    "cannot_edit": {
        "en": "This action has no parameters to change.",
        "zh-TW": "這個動作沒有可以變更的參數。",
    },
    "param_invalid": {
        "en": "This value is not valid here.",
        "zh-TW": "此處的值無效。",
    },
    "param_date": {
        "en": "Pick a date (UTC).",
        "zh-TW": "請選擇日期 (UTC)。",
    },
}

# What to look at when a change may or may not have happened (its replica died mid-call).
CHECKS: Final[Sentences] = {
    "trigger_backup": {
        "en": "the vault's backup jobs for this VM",
        "zh-TW": "保存庫中此虛擬機器的備份作業",
    },
    "cancel_job": {
        "en": "the job's status in the vault's backup jobs",
        "zh-TW": "保存庫備份作業中該作業的狀態",
    },
    "remove_snapshot_extension": {
        "en": "the VM's extensions (VMSnapshot)",
        "zh-TW": "虛擬機器的延伸模組 (VMSnapshot)",
    },
    "remove_rg_lock": {
        "en": "the locks of the restore points' resource group",
        "zh-TW": "還原點資源群組的鎖定",
    },
    "delete_restore_point_collection": {
        "en": "the restore-point collections of the VM",
        "zh-TW": "虛擬機器的還原點集合",
    },
    "resume_protection": {
        "en": "the VM's protection state in the vault",
        "zh-TW": "虛擬機器在保存庫中的保護狀態",
    },
    "": {"en": "the resource in the Azure portal", "zh-TW": "Azure 入口網站中的資源"},
}

AZURE: Final[list[tuple[type[AzureError], dict[Lang, str]]]] = [
    (AzureAuthError, {"en": "I could not sign in to Azure.", "zh-TW": "我無法登入 Azure。"}),
    (
        AzureForbidden,
        {
            "en": "Azure refused: my identity lacks a role for this.",
            "zh-TW": "Azure 拒絕了：我的身分識別缺少執行此操作的角色。",
        },
    ),
    (
        AzureNotFound,
        {
            "en": "Azure says the resource does not exist (any more).",
            "zh-TW": "Azure 表示該資源不存在 (或已不存在)。",
        },
    ),
    (
        AzureConflict,
        {
            "en": "Azure refused because of a conflict with the resource's state or a lock.",
            "zh-TW": "Azure 拒絕了，因為與資源的狀態或鎖定衝突。",
        },
    ),
    (
        AzureThrottled,
        {
            "en": "Azure is throttling my requests; try again in a few minutes.",
            "zh-TW": "Azure 正在節流我的要求；請幾分鐘後再試。",
        },
    ),
    (
        AzureUnavailable,
        {
            "en": "Azure is not answering properly right now; try again later.",
            "zh-TW": "Azure 目前無法正常回應；請稍後再試。",
        },
    ),
    (AzureTimeout, {"en": "Azure did not answer in time.", "zh-TW": "Azure 未及時回應。"}),
]

# NotAllowed messages are English sentences written in actions/ (they also go to the audit
# trail); a zh-TW reader gets them through these patterns, or in English when none fits.
_NOT_ALLOWED: Final[list[tuple[re.Pattern[str], str]]] = [
    (re.compile(p), zh)
    for p, zh in (
        (
            r"Vault (?P<vault>.+) is not one this bot may use \(BACKUP_FIX_VAULTS\)\.",
            "復原服務保存庫 {vault} 不是此 bot 可使用的保存庫 (BACKUP_FIX_VAULTS)。",
        ),
        (
            r"VM (?P<vm>.+) is not protected by a vault this bot may use \(BACKUP_FIX_VAULTS\)\.",
            "虛擬機器 {vm} 不受此 bot 可使用的保存庫保護 (BACKUP_FIX_VAULTS)。",
        ),
        (r"There is no action called (?P<name>.+)\.", "沒有名為 {name} 的動作。"),
        (
            r"The remediation (?P<name>\S+) is not enabled here \(BACKUP_FIX_ENABLED_ACTIONS\)\.",
            "此處未啟用修復動作 {name} (BACKUP_FIX_ENABLED_ACTIONS)。",
        ),
        (
            r"The VM is no longer protected by a configured vault\.",
            "此虛擬機器已不再受設定的保存庫保護。",
        ),
        (
            r"(?P<vm>.+) is no longer protected by vault (?P<vault>.+)\.",
            "{vm} 已不再受復原服務保存庫 {vault} 保護。",
        ),
        (
            r"This button names an action I don't have, so I ignored it\.",
            "這個按鈕指向我沒有的動作，所以我忽略了它。",
        ),
        (
            r"The retain-until date (?P<date>\S+) is not in the future\.",
            "保留期限 {date} 不是未來的日期。",
        ),
        (
            r"The retain-until date (?P<date>\S+) is more than 10 years away\.",
            "保留期限 {date} 距今超過 10 年。",
        ),
        (
            r"Protection is (?P<state>.*): resume protection first\.",
            "保護狀態為 {state}：請先繼續保護。",
        ),
        (
            r"Protection is (?P<state>.*): there is nothing to resume\.",
            "保護狀態為 {state}：沒有需要繼續的保護。",
        ),
        (
            r"Backup job (?P<job>\S+) of this VM is still running\.",
            "此虛擬機器的備份作業 {job} 仍在執行中。",
        ),
        (r"No backup job of this VM is in progress\.", "此虛擬機器沒有進行中的備份作業。"),
        (
            r"No backup policy given, and the item has no last policy\.",
            "未指定備份原則，且該項目沒有上次使用的原則。",
        ),
        (
            r"The policy must be a backup policy of vault (?P<vault>.+)\.",
            "原則必須是復原服務保存庫 {vault} 的備份原則。",
        ),
        (r"The VM has no restore-point collection\.", "此虛擬機器沒有還原點集合。"),
        (
            r"The VM has no failed VMSnapshot extension\.",
            "此虛擬機器沒有失敗的 VMSnapshot 延伸模組。",
        ),
        (
            r"No lock on the VM's or the restore-point resource groups\.",
            "虛擬機器或還原點的資源群組上沒有鎖定。",
        ),
        (
            r"(?P<group>\S+) is neither the VM's resource group nor an AzureBackupRG_\* group\.",
            "{group} 既不是虛擬機器的資源群組，也不是 AzureBackupRG_* 群組。",
        ),
        (
            r"There is no lock (?P<lock>.+) on (?P<group>\S+)\.",
            "資源群組 {group} 上沒有鎖定 {lock}。",
        ),
        (
            r"There is no collection (?P<name>.+) in (?P<group>\S+)\.",
            "資源群組 {group} 中沒有集合 {name}。",
        ),
        (
            r"Collection (?P<name>.+) holds restore points of another VM\.",
            "集合 {name} 保存的是另一台虛擬機器的還原點。",
        ),
        (r"The lock is gone\.", "鎖定已不存在。"),
        (r"The extension is gone\.", "延伸模組已不存在。"),
        (r"The collection is gone\.", "集合已不存在。"),
    )
]


def sentence(key: str, lang: Lang, **fields: str) -> str:
    """The raw sentence ``key`` in ``lang``, its placeholders filled with raw ``fields``."""
    template = SENTENCES[key][lang]
    return template.format(**fields) if fields else template


def refusal(why: Refusal, lang: Lang) -> str:
    """Why a click on Approve or Reject was refused, in ``lang``."""
    return REFUSALS[why][lang]


def check_hint(action: str, lang: Lang) -> str:
    """Where to look when an interrupted ``action`` may or may not have changed Azure."""
    return CHECKS.get(action, CHECKS[""])[lang]


def not_allowed(message: str, lang: Lang) -> str:
    """A NotAllowed message (English, from actions/) in ``lang``; English when no pattern fits."""
    if lang == "en":
        return message
    for pattern, template in _NOT_ALLOWED:
        found = pattern.fullmatch(message)
        if found:
            return template.format(**found.groupdict())
    return message


def error_sentence(exc: BaseException, lang: Lang = "en") -> str:
    """What went wrong, in a fixed sentence safe to show (NotAllowed messages are written so)."""
    if isinstance(exc, NotAllowed):
        return not_allowed(str(exc), lang)
    for kind, by_lang in AZURE:
        if isinstance(exc, kind):
            text = by_lang[lang]
            if exc.code and exc.code.isidentifier():
                return f"{text[:-1]} ({exc.code}){text[-1]}"
            return text
    if isinstance(exc, AzureError):
        return sentence("azure_failed", lang)
    return sentence("our_failure", lang)


# The English sentence actions/ raise (as NotAllowed) and the audit trail records.
UNKNOWN_ACTION: Final = SENTENCES["unknown_action"]["en"]
