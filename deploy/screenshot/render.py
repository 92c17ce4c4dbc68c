"""Render the bot's real Block Kit reply for a paste as a Slack-like HTML page (README image).

Run: ``python deploy/screenshot/render.py > deploy/screenshot/reply.html``, then
``chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=900,1400
--screenshot=deploy/screenshot/reply.png deploy/screenshot/reply.html``.
"""

from __future__ import annotations

import html
import re
import sys
from typing import Any

from bot.blocks import answer_replies
from knowledge.matcher import analyse, default_matcher

PASTE = (
    "Backup of vm-sql-02 failed again :( \n"
    '{"error": {"code": "UserErrorRpCollectionLimitReached", '
    '"message": "The Restore Point collection max limit has reached."}}'
)
ACTIONS = ("restore_points", "locks", "remove_rg_lock", "delete_restore_point_collection")

_LINK = re.compile(r"&lt;(https?://[^|&]+)\|([^&]*)&gt;")


def mrkdwn(text: str) -> str:
    """Slack mrkdwn (as the bot writes it) to HTML."""
    out = html.escape(html.unescape(text))
    out = _LINK.sub(r'<a href="\1">\2</a>', out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", out)
    out = re.sub(r"(?<!\w)_([^_\n]+)_(?!\w)", r"<i>\1</i>", out)
    return out.replace("\n", "<br>")


def block(b: dict[str, Any]) -> str:
    """One block as HTML."""
    kind = b["type"]
    if kind == "header":
        return f"<h3>{html.escape(b['text']['text'])}</h3>"
    if kind == "divider":
        return "<hr>"
    if kind == "context":
        parts = [mrkdwn(e.get("text", "")) for e in b["elements"]]
        return f"<div class=ctx>{' '.join(parts)}</div>"
    if kind == "section":
        return f"<div class=sec>{mrkdwn(b['text']['text'])}</div>"
    if kind == "actions":
        buttons = []
        for e in b["elements"]:
            label = html.escape(
                e.get("text", {}).get("text", e.get("placeholder", {}).get("text", ""))
            )
            style = " primary" if e.get("style") == "primary" else ""
            buttons.append(f"<span class='btn{style}'>{label}</span>")
        return f"<div class=acts>{''.join(buttons)}</div>"
    return ""


def page() -> str:
    """The whole HTML page: the paste, then the bot's threaded answer."""
    analysis = analyse(PASTE)
    replies = answer_replies(
        analysis.matches, default_matcher().kb, "en", paste_hash="0" * 64, actions=ACTIONS
    )
    body = "".join(block(b) for r in replies for b in r.blocks)
    style = (
        "body{font:15px/1.45 -apple-system,'Segoe UI',Lato,'Noto Sans CJK TC',sans-serif;"
        "background:#fff;color:#1d1c1d;margin:0;padding:16px 24px;width:820px}"
        ".msg{display:flex;gap:10px;margin-bottom:18px}.av{width:36px;height:36px;border-radius:6px;"
        "background:#4a154b;color:#fff;font-weight:bold;text-align:center;line-height:36px}"
        ".who{font-weight:900}.app{font-size:11px;background:#ddd;border-radius:3px;padding:0 4px;"
        "margin-left:4px;color:#555}.thread{border-left:3px solid #e0e0e0;padding-left:14px}"
        "h3{margin:6px 0}.ctx{color:#616061;font-size:13px;margin:4px 0}.sec{margin:6px 0}"
        "code{background:#f4f4f4;border:1px solid #e1e1e1;border-radius:3px;padding:0 3px;"
        "color:#e01e5a;font-size:13px}hr{border:0;border-top:1px solid #e0e0e0}"
        ".acts{margin:8px 0}.btn{display:inline-block;border:1px solid #bbb;border-radius:4px;"
        "padding:3px 10px;margin:0 6px 6px 0;font-weight:bold;font-size:13px}"
        ".primary{background:#007a5a;color:#fff;border-color:#007a5a}a{color:#1264a3}"
        "pre{background:#f8f8f8;border:1px solid #e1e1e1;border-radius:4px;padding:8px;"
        "white-space:pre-wrap;font-size:13px}"
    )
    paste = html.escape(PASTE)
    return (
        f"<!doctype html><meta charset=utf-8><style>{style}</style>"
        f"<div class=msg><div class=av>OP</div><div><span class=who>oncall-ops</span>"
        f"<pre>{paste}</pre></div></div>"
        f"<div class=thread><div class=msg><div class=av>BF</div><div>"
        f"<span class=who>backup-fix</span><span class=app>APP</span>{body}</div></div></div>"
    )


if __name__ == "__main__":
    sys.stdout.write(page())
