"""``/backup-fix``: private answers, sharing, usage, list, did-you-mean, feedback."""

from __future__ import annotations

import pytest

from bot import ids
from knowledge import analyse, load_kb
from tests.acceptance.conftest import KNOWN, Slack, check_limits, wait_until
from tests.fakes.slack_api import buttons

# Texts near an entry but under the bar; the first the matcher ranks that way is used.
NEAR_MISSES = [
    "VM Agent unable to talk with Azure Backup service",
    "VM agent unable to communicate",
    "VSS writer bad state",
    "snapshot failed no network",
]


def title(code: str, lang: str) -> str:
    entry = load_kb().get(code)
    assert entry is not None
    return entry.title.get(lang)  # type: ignore[arg-type]


def test_command_with_a_code_answers_privately_with_a_share_button(slack: Slack) -> None:
    reply = slack.command(KNOWN)
    assert KNOWN in reply.all_text()
    reply.button(ids.SHARE)
    # An ephemeral reply notifies no one, so its fallback text is optional here.
    check_limits(reply.blocks, reply.text or "-")
    assert [c for c in slack.fake.calls("chat.postMessage")] == []


def test_share_posts_the_answer_in_the_channel(slack: Slack) -> None:
    share = slack.command(KNOWN, channel="CSHARE").button(ids.SHARE)
    status, _, url = slack.click(share, channel="CSHARE", ephemeral=True)
    assert status == 200
    path = url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    shared = slack.fake.wait_any(
        ("chat.postMessage", "response_url"),
        lambda c: (
            (c.method == "chat.postMessage" and c.params.get("channel") == "CSHARE")
            or (c.path == "/" + path and c.params.get("response_type") == "in_channel")
        ),
    )
    assert KNOWN in shared.all_text()


@pytest.mark.parametrize("text", ["", "help"])
def test_bare_command_and_help_show_usage(slack: Slack, text: str) -> None:
    reply = slack.command(text)
    assert "/backup-fix" in reply.all_text()
    assert "list" in reply.all_text()


def test_list_shows_the_known_codes(slack: Slack) -> None:
    shown = slack.command("list").all_text()
    for code in load_kb().codes():
        assert code in shown


def near_miss() -> tuple[str, str]:
    for text in NEAR_MISSES:
        found = analyse(text)
        if not found.matches and found.suggestions:
            return text, found.suggestions[0].code
    pytest.fail("no near-miss text the matcher ranks below the bar: update NEAR_MISSES")


def test_below_the_bar_offers_did_you_mean_buttons_that_open_the_entry(slack: Slack) -> None:
    text, code = near_miss()
    reply = slack.command(text)
    offered = [b for b in reply.buttons if b.get("action_id", "").startswith(ids.OPEN_ENTRY)]
    assert 1 <= len(offered) <= 3
    assert any(code in b["text"]["text"] or code in b.get("value", "") for b in offered)
    chosen = next(b for b in offered if code in b["text"]["text"] or code in b.get("value", ""))
    status, body, url = slack.click(chosen, ephemeral=True)
    assert status == 200
    opened = slack.private_reply(body, url, user="U1")
    assert title(code, "en") in opened.all_text()


def test_tampered_button_value_gets_a_polite_refusal(slack: Slack) -> None:
    share = slack.command(KNOWN, channel="CTAMPER").button(ids.SHARE)
    forged = dict(share, value="NoSuchErrorCode:" + share.get("value", "")[::-1])
    status, body, url = slack.click(forged, channel="CTAMPER", ephemeral=True)
    assert status == 200
    refusal = slack.private_reply(body, url, user="U1").all_text()
    assert refusal.strip()
    assert "Traceback" not in refusal
    assert "NoSuchErrorCode" not in refusal
    assert [c for c in slack.fake.calls("chat.postMessage") if KNOWN in c.all_text()] == []
    assert slack.bot.alive()
    assert KNOWN in slack.command(KNOWN).all_text()


def test_lang_option_overrides_the_paste_language(slack: Slack) -> None:
    reply = slack.command(f"--lang en 備份失敗，錯誤碼：{KNOWN}").all_text()
    assert title(KNOWN, "en") in reply
    assert title(KNOWN, "zh-TW") not in reply


def test_feedback_click_is_stored_and_counted(slack: Slack) -> None:
    event = slack.paste(KNOWN, channel="CFEED")
    answer = slack.wait_answer("CFEED", event["ts"])
    helped = [b for b in buttons(answer.blocks) if b.get("action_id") == ids.FEEDBACK_HELPED]
    assert helped, "no 'Helped' button in the answer"

    def feedback_total() -> float:
        return sum(v for k, v in slack.metrics().items() if "feedback" in k and "_created" not in k)

    before = feedback_total()
    status, _, _ = slack.click(
        helped[0], channel="CFEED", message_ts=answer.params.get("ts") or event["ts"]
    )
    assert status == 200
    assert wait_until(lambda: feedback_total() > before)
