"""Pasted errors in channels: one threaded answer when confident, silence otherwise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge import analyse, load_kb
from tests.acceptance.conftest import KNOWN, REF, Slack, check_limits, sqlite_url
from tests.fakes import signing


def title(code: str, lang: str) -> str:
    entry = load_kb().get(code)
    assert entry is not None
    return entry.title.get(lang)  # type: ignore[arg-type]


def test_pasted_error_gets_one_threaded_answer_with_the_code(slack: Slack) -> None:
    event = slack.paste(f"backup job failed: {KNOWN} (see portal)", channel="CPASTE")
    answer = slack.wait_answer("CPASTE", event["ts"])
    assert KNOWN in answer.all_text()
    check_limits(answer.blocks, str(answer.params.get("text", "")))
    slack.barrier()
    assert len(slack.fake.calls("chat.postMessage")) == 2  # the answer and the barrier's


def test_chatter_gets_no_call(slack: Slack) -> None:
    slack.paste("anyone up for lunch? the backup dashboard looks fine today", channel="CCHAT")
    slack.barrier()
    assert [c for c in slack.fake.calls() if c.params.get("channel") == "CCHAT"] == []


@pytest.mark.parametrize(
    "extra",
    [
        {"subtype": "bot_message", "bot_id": "BOTHER", "user": None},
        {"bot_id": "BOTHER"},
        {"user": signing.BOT_USER, "bot_id": signing.BOT_ID},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
        {"subtype": "thread_broadcast_unknown_subtype"},
    ],
    ids=["bot_message", "other_bot", "itself", "edit", "delete", "join", "other_subtype"],
)
def test_bots_edits_and_subtypes_get_no_call(slack: Slack, extra: dict[str, object]) -> None:
    kwargs = dict(extra)
    user = kwargs.pop("user", "U1")
    event = signing.message(KNOWN, channel="CSUB", user=user, **kwargs)  # type: ignore[arg-type]
    if extra.get("subtype") == "message_changed":
        event["message"] = {"type": "message", "user": "U1", "text": KNOWN, "ts": event["ts"]}
    assert slack.client.event(event).status == 200
    slack.barrier()
    assert [c for c in slack.fake.calls() if c.params.get("channel") == "CSUB"] == []


def test_channels_setting_excludes_other_channels(
    start_bot: Callable[..., Slack], tmp_path: Path
) -> None:
    bot = start_bot(sqlite_url(tmp_path), BACKUP_FIX_CHANNELS="CALLOWED,CBARRIER")
    elsewhere = bot.paste(KNOWN, channel="COTHER")
    allowed = bot.paste(KNOWN, channel="CALLOWED")
    bot.wait_answer("CALLOWED", allowed["ts"])
    bot.barrier()
    assert bot.answers("COTHER", elsewhere["ts"]) == []
    assert [c for c in bot.fake.calls() if c.params.get("channel") == "COTHER"] == []


def test_paste_inside_a_thread_is_answered_in_that_thread(slack: Slack) -> None:
    parent = signing.new_ts()
    slack.paste(f"still failing: {KNOWN}", channel="CTHREAD", thread_ts=parent)
    answer = slack.wait_answer("CTHREAD", parent)
    assert KNOWN in answer.all_text()


def test_same_error_again_in_the_thread_is_not_answered_again(slack: Slack) -> None:
    first = slack.paste(KNOWN, channel="CAGAIN")
    slack.wait_answer("CAGAIN", first["ts"])
    slack.paste(f"again: {KNOWN}", channel="CAGAIN", thread_ts=first["ts"])
    slack.paste(KNOWN, channel="CAGAIN", thread_ts=first["ts"])
    slack.barrier()
    assert len(slack.answers("CAGAIN", first["ts"])) == 1


def test_every_known_error_is_answered_within_slacks_limits(slack: Slack) -> None:
    # Generic codes (ResourceNotFound, ...) are rightly not answered unasked.
    codes = [c for c in load_kb().codes() if [m.code for m in analyse(c).matches] == [c]]
    assert len(codes) > 1
    sent = [(code, slack.paste(f"Error: {code}", channel="CLIMITS")) for code in codes]
    for code, event in sent:
        answer = slack.wait_answer("CLIMITS", event["ts"])
        assert code in answer.all_text()
        check_limits(answer.blocks, str(answer.params.get("text", "")))


def test_paste_with_many_errors_and_a_huge_line_stays_within_limits(slack: Slack) -> None:
    codes = load_kb().codes()
    long_line = "x" * 20000 + f" {KNOWN} " + "y" * 20000
    text = "\n".join([long_line, *(f"{i}: {c} failed" for i, c in enumerate(codes))])
    event = slack.paste(text, channel="CMANY")
    slack.wait_answer("CMANY", event["ts"])
    slack.barrier()
    posted = slack.answers("CMANY", event["ts"])
    assert posted
    for call in posted:
        check_limits(call.blocks, str(call.params.get("text", "")))


def test_zh_tw_paste_gets_a_zh_tw_answer(slack: Slack) -> None:
    event = slack.paste(f"備份失敗，錯誤碼：{KNOWN}，請協助", channel="CZH", user="UZHPASTE")
    text = slack.wait_answer("CZH", event["ts"]).all_text()
    assert title(KNOWN, "zh-TW") in text
    assert title(KNOWN, "en") not in text


@pytest.mark.parametrize(("locale", "lang"), [("zh-TW", "zh-TW"), ("en-US", "en")])
def test_code_only_paste_follows_the_users_locale(slack: Slack, locale: str, lang: str) -> None:
    user = "ULOC" + lang.replace("-", "").upper()
    slack.fake.locales[user] = locale
    event = slack.paste(KNOWN, channel="CLOCALE", user=user)
    text = slack.wait_answer("CLOCALE", event["ts"]).all_text()
    other = "en" if lang == "zh-TW" else "zh-TW"
    assert title(KNOWN, lang) in text
    assert title(KNOWN, other) not in text
    asked = slack.fake.calls("users.info")
    assert any(c.params.get("user") == user for c in asked)


def test_rate_limited_post_still_arrives(slack: Slack) -> None:
    slack.fake.fail_next("chat.postMessage", 1, status=429, retry_after=1)
    event = slack.paste(KNOWN, channel="C429")
    slack.wait_answer("C429", event["ts"], timeout=15)
    tried = slack.fake.calls("chat.postMessage", include_failed=True)
    assert [c.status for c in tried][:2] == [429, 200]


def test_slack_500_is_logged_with_a_ref_and_the_next_event_works(slack: Slack) -> None:
    mark = slack.bot.stderr_lines
    slack.fake.fail_next("chat.postMessage", 5, status=500)
    slack.paste(KNOWN, channel="C500")
    line = slack.bot.wait_stderr(REF.pattern, after=mark)
    assert "Traceback" not in line
    slack.fake.clear_failures()
    assert slack.bot.alive()
    event = slack.paste(KNOWN, channel="C500B")
    slack.wait_answer("C500B", event["ts"])
