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
}


def label(key: str, lang: Lang) -> str:
    """The raw (unescaped) label ``key`` in ``lang``."""
    return LABELS[key][lang]
