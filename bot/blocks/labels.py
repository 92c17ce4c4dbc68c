"""Every word the Block Kit builders show, in both languages the bot answers in.

Templates are plain text with mrkdwn markers; the builders escape them before use, so ``<text>``
here shows as ``<text>`` in Slack. ``{name}`` placeholders are filled with already-escaped text.
"""

from __future__ import annotations

from typing import Final

from knowledge.model import Lang

LABELS: Final[dict[str, dict[Lang, str]]] = {
    "matched": {"en": "Matched:", "zh-TW": "比對到的內容："},
    "causes": {"en": "*Possible causes*", "zh-TW": "*可能原因*"},
    "steps": {"en": "*What to do*", "zh-TW": "*解決步驟*"},
    "notes": {"en": "*Notes*", "zh-TW": "*注意事項*"},
    "docs": {"en": "*Documentation*", "zh-TW": "*參考文件*"},
    "related": {"en": "*Related errors*", "zh-TW": "*相關錯誤*"},
    "see_below": {"en": "(see *{title}* below)", "zh-TW": "(請參閱下方的 *{title}*)"},
    "see_link": {"en": "(see {link})", "zh-TW": "(請參閱 {link})"},
    "use_button": {"en": "(button: *{label}*)", "zh-TW": "(按鈕：*{label}*)"},
    "more": {"en": "more in the docs", "zh-TW": "完整內容請見文件"},
    "helped": {"en": "Helped", "zh-TW": "有幫助"},
    "not_helped": {"en": "Didn't help", "zh-TW": "沒有幫助"},
    "share": {"en": "Share in channel", "zh-TW": "分享到頻道"},
    "show_details": {"en": "Show details", "zh-TW": "顯示詳細資訊"},
    "details_title": {"en": "Details: {code}", "zh-TW": "詳細資訊：{code}"},
    "show_more": {"en": "Show {count} more", "zh-TW": "再顯示 {count} 個"},
    "more_found": {
        "en": "Also in this paste ({count}): {codes}",
        "zh-TW": "這段內容中的其他錯誤 ({count})：{codes}",
    },
    "did_you_mean": {
        "en": "No exact match. Did you mean:",
        "zh-TW": "沒有完全符合的錯誤。您要找的是不是：",
    },
    "no_match": {
        "en": "I couldn't match this to a known Azure Backup error. "
        "Try `/backup-fix list` to see the codes I know.",
        "zh-TW": "找不到符合的 Azure 備份錯誤。請試試 `/backup-fix list` 查看已知的錯誤碼。",
    },
    "help_title": {"en": "backup-fix: how to use it", "zh-TW": "backup-fix 使用說明"},
    "help_paste": {
        "en": "`/backup-fix <text>`: paste an Azure VM Backup error and get its causes and steps. "
        "Only you see the answer; *Share in channel* posts it for everyone.",
        "zh-TW": "`/backup-fix <文字>`：貼上 Azure VM 備份錯誤，取得可能原因與解決步驟。"
        "回覆只有你看得到；按 *分享到頻道* 即可公開給所有人。",
    },
    "help_help": {
        "en": "`/backup-fix help`: this help.",
        "zh-TW": "`/backup-fix help`：顯示這份說明。",
    },
    "help_list": {
        "en": "`/backup-fix list`: the error codes I know.",
        "zh-TW": "`/backup-fix list`：列出已知的錯誤碼。",
    },
    "help_lang": {
        "en": "`--lang en|zh-TW`: the answer's language (default: the language of the paste).",
        "zh-TW": "`--lang en|zh-TW`：指定回覆語言 (預設依貼上內容的語言)。",
    },
    "help_thread": {
        "en": "Errors pasted in a channel I'm in are answered in a thread.",
        "zh-TW": "在我所在的頻道中貼上錯誤訊息，我會在討論串中回覆。",
    },
    "list_title": {"en": "Known error codes ({count})", "zh-TW": "已知的錯誤碼 ({count})"},
    # A code the knowledge base does not know (bot/blocks/family.py)
    "family_unknown": {
        "en": "Not in my knowledge base yet. What its name tells:",
        "zh-TW": "這個錯誤碼還不在我的知識庫中。從它的名稱可以看出：",
    },
    "family_said": {"en": "*The service said:*", "zh-TW": "*服務的訊息：*"},
    "family_operation": {"en": "Operation:", "zh-TW": "作業："},
    "family_steps": {"en": "*Where to start*", "zh-TW": "*可以從這裡開始*"},
    "family_search": {
        "en": "Search Microsoft Learn for {code}",
        "zh-TW": "在 Microsoft Learn 搜尋 {code}",
    },
    # Diagnostics and approvals (bot/blocks/actions.py)
    "vm_state_unknown": {"en": "unknown", "zh-TW": "不明"},
    "pick_none": {
        "en": "None of the configured vaults protects a VM I can act on.",
        "zh-TW": "設定的復原服務保存庫都沒有保護我可以處理的虛擬機器。",
    },
    "pick_text": {
        "en": "Which VM is this about? Pick it to run checks and fixes on it.",
        "zh-TW": "這是關於哪一台虛擬機器？請選擇它，以便對它執行檢查與修復。",
    },
    "pick_placeholder": {"en": "Pick the VM", "zh-TW": "選擇虛擬機器"},
    "chosen": {
        "en": "This thread is about *{vm}* in vault *{vault}*{by}: protection {protection}, "
        "health {health}, last backup {last}.",
        "zh-TW": "此討論串討論的是復原服務保存庫 *{vault}* 中的 *{vm}*{by}：保護狀態 {protection}、"
        "健康狀態 {health}、上次備份 {last}。",
    },
    "chosen_by": {"en": " (chosen by {user})", "zh-TW": " (由 {user} 選擇)"},
    "chosen_text": {"en": "VM: {vm}", "zh-TW": "虛擬機器：{vm}"},
    "nothing_to_report": {"en": "Nothing to report.", "zh-TW": "沒有需要回報的內容。"},
    "card_title": {"en": "Approval needed: {action}", "zh-TW": "需要核准：{action}"},
    "card_text": {
        "en": "Approval needed: {action} (request {id})",
        "zh-TW": "需要核准：{action} (要求 {id})",
    },
    "card_who": {
        "en": "Requested by {user} · expires {expires} · request `{id}` · plan `{hash}`",
        "zh-TW": "要求者 {user} · 到期 {expires} · 要求 `{id}` · 計畫 `{hash}`",
    },
    "approve": {"en": "Approve", "zh-TW": "核准"},
    "reject": {"en": "Reject", "zh-TW": "拒絕"},
    "state_pending": {"en": "⏳ Waiting for approval", "zh-TW": "⏳ 等待核准"},
    "state_running": {
        "en": "▶️ Approved by {by}: running…",
        "zh-TW": "▶️ 已由 {by} 核准：執行中…",
    },
    "state_succeeded": {"en": "✅ Approved by {by}: done", "zh-TW": "✅ 已由 {by} 核准：完成"},
    "state_failed": {"en": "❌ Approved by {by}: failed", "zh-TW": "❌ 已由 {by} 核准：失敗"},
    "state_rejected": {"en": "🚫 Rejected by {by}", "zh-TW": "🚫 已由 {by} 拒絕"},
    "state_superseded": {
        "en": "🔁 Replaced by {by} with changed parameters: see request `{id}`",
        "zh-TW": "🔁 已由 {by} 以變更後的參數取代：請見要求 `{id}`",
    },
    "edit_params": {"en": "Change parameters", "zh-TW": "變更參數"},
    "modal_title": {"en": "Change parameters", "zh-TW": "變更參數"},
    "modal_submit": {"en": "Ask again", "zh-TW": "重新要求"},
    "modal_cancel": {"en": "Cancel", "zh-TW": "取消"},
    "modal_intro": {
        "en": "*{action}* on {target}. Submitting replaces the pending request with a new one; "
        "it needs approval again.",
        "zh-TW": "*{action}*，對象為 {target}。送出後會以新的要求取代待核准的要求；需要重新核准。",
    },
    "modal_pick": {"en": "Pick one", "zh-TW": "請選擇一項"},
    "param_retain_until": {
        "en": "Keep the recovery point until (UTC)",
        "zh-TW": "復原點保留至 (UTC)",
    },
    "param_policy_id": {"en": "Backup policy (resource id)", "zh-TW": "備份原則 (資源識別碼)"},
    "param_resource_group": {"en": "Resource group", "zh-TW": "資源群組"},
    "param_lock_name": {"en": "Lock name", "zh-TW": "鎖定名稱"},
    "param_collection_name": {"en": "Restore-point collection", "zh-TW": "還原點集合"},
    "param_job_name": {"en": "Backup job id", "zh-TW": "備份作業識別碼"},
    "param_extension_name": {"en": "Extension name", "zh-TW": "延伸模組名稱"},
    "choice_remove_rg_lock": {"en": "Which lock", "zh-TW": "哪一個鎖定"},
    "choice_delete_restore_point_collection": {
        "en": "Which restore-point collection",
        "zh-TW": "哪一個還原點集合",
    },
    "choice_cancel_job": {"en": "Which running job", "zh-TW": "哪一個執行中的作業"},
    "choice_remove_snapshot_extension": {
        "en": "Which failed extension",
        "zh-TW": "哪一個失敗的延伸模組",
    },
    "opt_lock": {"en": "{name} ({level}) on {group}", "zh-TW": "{group} 上的 {name} ({level})"},
    "opt_collection": {
        "en": "{name} in {group}: {points} restore points",
        "zh-TW": "{group} 中的 {name}：{points} 個還原點",
    },
    "opt_job": {
        "en": "{operation} job {name}, started {started}",
        "zh-TW": "{operation} 作業 {name}，開始於 {started}",
    },
    "opt_extension": {"en": "{name} ({state})", "zh-TW": "{name} (狀態：{state})"},
    "opt_current": {"en": "{value} (current)", "zh-TW": "{value} (目前的值)"},
    "state_expired": {
        "en": "⌛ Expired: nobody approved it in time",
        "zh-TW": "⌛ 已到期：沒有人及時核准",
    },
    "azure_job": {"en": "Azure job: `{job}`", "zh-TW": "Azure 作業：`{job}`"},
    "open_portal": {"en": "Open in the Azure portal", "zh-TW": "在 Azure 入口網站中開啟"},
    "correlation": {"en": "correlation id `{id}`", "zh-TW": "相互關聯識別碼 `{id}`"},
    "audit_empty": {"en": "The audit trail is empty.", "zh-TW": "稽核記錄是空的。"},
    "audit_title": {"en": "Audit trail", "zh-TW": "稽核記錄"},
    "audit_by": {"en": "by {actor}", "zh-TW": "執行者 {actor}"},
    "audit_request": {"en": "request {id} ({action})", "zh-TW": "要求 {id} ({action})"},
    "audit_plan": {"en": "plan {hash}", "zh-TW": "計畫 {hash}"},
    "audit_corr": {"en": "corr {id}", "zh-TW": "相互關聯 {id}"},
}

# The fixed labels and summaries of diagnostic findings (English, from actions/diagnostics/),
# for zh-TW readers. A label missing here (a resource name, say) is shown as it is.
FINDINGS: Final[dict[str, str]] = {
    "Failed jobs": "失敗的作業",
    "Job": "作業",
    "Error code": "錯誤碼",
    "Error": "錯誤",
    "Message": "訊息",
    "Recommendation": "建議",
    "Pasted error": "貼上的錯誤",
    "Locks": "鎖定",
    "Protection state": "保護狀態",
    "Health": "健康狀態",
    "Last backup": "上次備份",
    "Running job": "執行中的作業",
    "Total": "總計",
    "Power state": "電源狀態",
    "Provisioning state": "佈建狀態",
    "Guest agent": "客體代理程式",
    "Agent version": "代理程式版本",
    "Agent message": "代理程式訊息",
    "Snapshot extension": "快照集延伸模組",
    "Protection is healthy.": "保護狀態正常。",
    "No lock blocks Azure Backup.": "沒有鎖定阻擋 Azure 備份。",
    "Agent and snapshot extension look fine.": "代理程式與快照集延伸模組看起來正常。",
}
# Labels that start with a fixed word and go on with a name ("Extension VMSnapshot").
FINDING_PREFIXES: Final[dict[str, str]] = {"Extension ": "延伸模組 ", "Task ": "工作 "}


def label(key: str, lang: Lang) -> str:
    """The raw (unescaped) label ``key`` in ``lang``."""
    return LABELS[key][lang]


def finding_label(text: str, lang: Lang) -> str:
    """A diagnostic's fixed English label or summary in ``lang``; unknown ones stay English."""
    if lang == "en":
        return text
    if text in FINDINGS:
        return FINDINGS[text]
    for prefix, translated in FINDING_PREFIXES.items():
        if text.startswith(prefix):
            return translated + text[len(prefix) :]
    return text
