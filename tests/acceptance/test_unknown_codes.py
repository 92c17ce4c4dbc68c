"""A code nobody has explained yet: the family answer when asked, silence when not (over HTTP)."""

from __future__ import annotations

from tests.acceptance.conftest import KNOWN, Slack, check_limits
from tests.fakes import signing

CODE = "BMSUserErrorMadeUpForTestsXyz"
PASTE = (
    '{"properties": {"errorDetails": [{"errorCode": "' + CODE + '", "errorString": '
    '"The made-up item <@U0EVIL> refused the request"}], "operation": "ConfigureBackup"}}'
)


def test_command_with_an_unknown_code_gets_the_family_answer(slack: Slack) -> None:
    reply = slack.command(PASTE, channel="CFAM")
    body = reply.all_text()
    assert CODE in body
    assert "backup management service" in body  # the BMSUserError family's explanation
    assert "The made-up item" in body  # the service's own message, quoted
    assert "ConfigureBackup" in body  # the operation it came from
    assert f"https://learn.microsoft.com/en-us/search/?terms={CODE}" in body
    assert "<@U0EVIL>" not in body  # quoted as text, never a live mention
    check_limits(reply.blocks, reply.text or "-")
    assert slack.fake.calls("chat.postMessage") == []


def test_known_errors_come_before_the_family_answer(slack: Slack) -> None:
    body = slack.command(f"{KNOWN}\n{PASTE}", channel="CFAM").all_text()
    assert 0 <= body.find(KNOWN) < body.find(CODE)


def test_zh_tw_reader_gets_the_family_in_zh_tw(slack: Slack) -> None:
    body = slack.command(f"--lang zh-TW {PASTE}", channel="CFAM").all_text()
    assert "備份管理服務" in body
    assert f"https://learn.microsoft.com/zh-tw/search/?terms={CODE}" in body


def test_mention_with_an_unknown_code_gets_the_family_answer(slack: Slack) -> None:
    event = signing.mention(f"what is this? {PASTE}", channel="CFAMM")
    assert slack.client.event(event).status == 200
    answer = slack.wait_answer("CFAMM", event["ts"])
    assert CODE in answer.all_text()
    assert "backup management service" in answer.all_text()


def test_unasked_channel_paste_of_an_unknown_code_gets_nothing_but_is_counted(
    slack: Slack,
) -> None:
    def unmatched() -> float:
        return slack.metrics().get('backup_fix_unmatched_pastes_total{source="channel"}', 0.0)

    before = unmatched()
    event = slack.paste(PASTE, channel="CFAMSILENT")
    slack.barrier()
    assert [c for c in slack.fake.calls("chat.postMessage") if CODE in c.all_text()] == []
    assert slack.answers("CFAMSILENT", event["ts"]) == []
    assert [c for c in slack.fake.calls("chat.postEphemeral")] == []
    assert unmatched() == before + 1  # recorded for `kb report`, not answered
