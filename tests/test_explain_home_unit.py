"""Unit tests of issue 11's pure parts: the words read from a message, the Home view's limits and
escaping, the gate's Home path, the approvers' mentions and the new settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from actions.approvals import Approvers, Click, Refusal, check_approve, home_tag, new_request
from bot.approvers import approver_mentions
from bot.blocks.actions import card_blocks, card_text
from bot.blocks.home import MAX_VIEW_BLOCKS, Waiting, home_view
from bot.explain import MAX_EXPLAIN_CHARS, message_text
from bot.settings import SettingsError, load_settings
from tests.fakes.slack_api import buttons, strings

KEY = b"k" * 32
NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)


def request(requester: str = "UREQ", plan: str = "Trigger a backup of vm-01") -> object:
    return new_request(
        action="trigger_backup",
        params={"vm": "vm-01"},
        plan=plan,
        requester=requester,
        channel="COPS",
        thread_ts="1.1",
        now=NOW,
        key=KEY,
        ttl=timedelta(minutes=30),
    )


def test_message_text_reads_text_attachments_fields_and_blocks_once() -> None:
    message = {
        "text": "Alert: UserErrorRpCollectionLimitReached",
        "attachments": [
            {
                "fallback": "fallback words",
                "fields": [{"title": "Code", "value": "BackUpOperationFailed"}],
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "att block"}}],
            }
        ],
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "Alert: UserErrorRpCollectionLimitReached"},
            },
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "Error "},
                            {"type": "text", "text": "VMSnapshotTimedOut"},
                        ],
                    }
                ],
            },
        ],
    }
    text = message_text(message)
    for part in (
        "fallback words",
        "Code BackUpOperationFailed",
        "att block",
        "Error VMSnapshotTimedOut",
    ):
        assert part in text
    assert text.count("UserErrorRpCollectionLimitReached") == 1  # text and block say the same
    assert len(message_text({"text": "x" * 50_000})) == MAX_EXPLAIN_CHARS
    assert message_text({"attachments": "junk", "blocks": [None, 3]}) == ""


def test_the_home_view_stays_within_slacks_limits_and_escapes_what_users_wrote() -> None:
    hostile = "<!channel> *bold* <@U666> `tick`"
    waiting = [
        Waiting(request(plan=f"{hostile} {n}"), "tag")  # type: ignore[arg-type]
        for n in range(40)
    ]
    view = home_view(lang="zh-TW", waiting=waiting, own=[w.request for w in waiting], query=hostile)
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    assert len(blocks) <= MAX_VIEW_BLOCKS
    text = "\n".join(strings(blocks))
    assert "<!channel>" not in text
    assert "<@U666>" not in text
    assert "等待您核准" in text
    values = [json.loads(b["value"]) for b in buttons(blocks)]
    assert values
    assert all(set(v) == {"id", "hash", "home"} for v in values)


def test_the_gate_takes_a_home_click_only_with_the_clickers_own_tag() -> None:
    req = request()
    approvers = Approvers.parse(["UAPP1", "UAPP2"])
    assert approvers.allows("UAPP1", {})

    def check(user: str, tag: str | None) -> Refusal | None:
        click = Click(req.plan_hash, "", "", tag)  # type: ignore[attr-defined]
        return check_approve(req, user=user, is_approver=True, click=click, now=NOW, key=KEY)  # type: ignore[arg-type]

    own = home_tag(req, "UAPP1", key=KEY)  # type: ignore[arg-type]
    assert check("UAPP1", own) is None
    assert check("UAPP2", own) == Refusal.TAMPERED  # someone else's Home button
    assert check("UAPP1", "") == Refusal.TAMPERED
    assert check("UAPP1", home_tag(req, "UAPP1", key=b"x" * 32)) == Refusal.TAMPERED  # type: ignore[arg-type]
    assert check("UAPP1", None) == Refusal.WRONG_CHANNEL  # no tag: only the card counts
    own_req = home_tag(req, "UREQ", key=KEY)  # type: ignore[arg-type]
    assert check("UREQ", own_req) == Refusal.OWN_REQUEST


def test_cards_mention_the_configured_approvers_only_while_pending() -> None:
    mentions = approver_mentions(Approvers.parse(["S0OPS", "UAPP1", "U<!x>"]))
    assert mentions == "<!subteam^S0OPS> <@UAPP1>"
    req = request()
    assert card_text(req, notify=mentions).startswith(mentions)  # type: ignore[arg-type]
    live = "\n".join(strings(card_blocks(req, notify=mentions)))  # type: ignore[arg-type]
    assert "<!subteam^S0OPS>" in live
    quiet = "\n".join(strings(card_blocks(req)))  # type: ignore[arg-type]
    assert "subteam" not in quiet
    assert approver_mentions(Approvers()) == ""


@pytest.mark.parametrize(
    ("raw", "want"), [(":backup-fix:", "backup-fix"), ("mag", "mag"), ("", None)]
)
def test_the_explain_emoji_setting(raw: str, want: str | None) -> None:
    assert load_settings(BACKUP_FIX_EXPLAIN_EMOJI=raw).explain_emoji == want


def test_bad_explain_emoji_and_notify_settings_name_the_variable() -> None:
    with pytest.raises(SettingsError, match="BACKUP_FIX_EXPLAIN_EMOJI"):
        load_settings(BACKUP_FIX_EXPLAIN_EMOJI="<!channel>")
    assert load_settings(BACKUP_FIX_NOTIFY_APPROVERS="false").notify_approvers is False
    assert load_settings().notify_approvers is True
