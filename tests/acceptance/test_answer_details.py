"""A short answer first, the rest on request: "Show details" and "Show N more", each posted once
per thread (also when the clicks reach two replicas), forged values refused; the first reply
within 900 visible characters as Slack receives it."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.replies import REFUSED
from knowledge import analyse, load_kb
from knowledge.answer import compose, details
from tests.acceptance.conftest import KNOWN, Slack, check_limits, wait_until
from tests.fakes import signing
from tests.fakes.slack_api import Call, buttons

DETAILS, MORE = "backup_fix.details", "backup_fix.more"  # CONTRACT.md, "Slack surface"
FIVE = [
    "UserErrorGuestAgentStatusUnavailable",
    "UserErrorRpCollectionLimitReached",
    "ExtensionSnapshotFailedNoNetwork",
    "UserErrorVmProvisioningStateFailed",
    "ExtensionFailedVssWriterInBadState",
]


def visible(blocks: list[dict[str, Any]]) -> int:
    """Characters a reader sees: header, section and context text (a link shows its label)."""
    seen = 0
    for block in blocks:
        parts = [block.get("text")] if block.get("type") in ("header", "section") else []
        parts += block.get("elements", []) if block.get("type") == "context" else []
        for part in parts:
            text = re.sub(r"<[^|<>]*\|([^<>]*)>", r"\1", part["text"])
            seen += len(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    return seen


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def button(call: Call, action_id: str) -> dict[str, Any]:
    found = [b for b in buttons(call.blocks) if b.get("action_id") == action_id]
    assert found, f"no {action_id} in {[b.get('action_id') for b in buttons(call.blocks)]}"
    return found[0]


def headers(calls: list[Call]) -> list[str]:
    return [b["text"]["text"] for c in calls for b in c.blocks if b.get("type") == "header"]


def settle(slack: Slack) -> None:
    """Every click sent so far handled (a paste elsewhere answered, then a short quiet spell)."""
    slack.barrier()
    with contextlib.suppress(TimeoutError):
        slack.fake.wait_for("chat.postMessage", count=10**6, timeout=0.5)


def click(slack: Slack, b: dict[str, Any], channel: str, answer: Call, root: str) -> int:
    status, _, _ = slack.click(
        b,
        channel=channel,
        message_ts=str(answer.params.get("ts") or signing.new_ts()),
        thread_ts=root,
    )
    return status


def test_show_details_posts_the_details_once_per_thread(slack: Slack) -> None:
    event = slack.paste(f"backup failed: {KNOWN}", channel="CDETAILS")
    root = event["ts"]
    answer = slack.wait_answer("CDETAILS", root)
    assert visible(answer.blocks) <= 900
    more = button(answer, DETAILS)
    # The short answer keeps the feedback buttons.
    assert {"backup_fix.feedback.helped", "backup_fix.feedback.not_helped"} <= {
        x["action_id"] for x in buttons(answer.blocks)
    }
    assert click(slack, more, "CDETAILS", answer, root) == 200
    posted = slack.fake.wait_for(
        "chat.postMessage",
        count=2,
        where=lambda c: c.params.get("channel") == "CDETAILS" and c.params.get("thread_ts") == root,
    )
    shown = posted[1].all_text()
    kb = load_kb()
    entry = kb.get(KNOWN)
    assert entry is not None
    said = details(compose(entry, kb, "en"))
    # The same knowledge `backup-fix diagnose` prints after the steps.
    steps = [step.text for section in said.sections for step in section.steps]
    for text in [*said.causes, *(s.title for s in said.sections), *steps]:
        assert esc(text) in shown, text
    assert all(esc(x.url) in shown for x in [*said.links, *said.related])
    check_limits(posted[1].blocks, str(posted[1].params.get("text", "")))
    # A second click, by someone else too: nothing more.
    assert click(slack, more, "CDETAILS", answer, root) == 200
    slack.click(more, user="U2", channel="CDETAILS", thread_ts=root)
    settle(slack)
    assert len(slack.answers("CDETAILS", root)) == 2


@pytest.mark.parametrize(
    "forged",
    [
        {"code": "UserErrorNoSuchThing", "lang": "en", "steps": 0},
        {"code": KNOWN, "lang": "fr", "steps": 0},
        {"code": KNOWN, "lang": "en", "steps": "all"},
        {"code": KNOWN, "as": "UserErrorRpCollectionLimitReached", "lang": "en", "steps": 0},
        "not json",
    ],
    ids=["unknown_code", "language", "steps", "alias_of_another", "garbage"],
)
def test_a_forged_details_value_is_refused_and_posts_nothing(
    slack: Slack, forged: dict[str, Any] | str
) -> None:
    event = slack.paste(KNOWN, channel="CFORGED")
    root = event["ts"]
    answer = slack.wait_answer("CFORGED", root)
    real = button(answer, DETAILS)
    fake = {**real, "value": forged if isinstance(forged, str) else json.dumps(forged)}
    status, _, url = slack.click(fake, channel="CFORGED", thread_ts=root)
    assert status == 200
    path = "/" + url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    said = slack.fake.wait_for("response_url", where=lambda c: c.path == path)[0]
    assert said.params.get("text") == REFUSED["en"]
    settle(slack)
    assert len(slack.answers("CFORGED", root)) == 1
    # The real button still works afterwards: the forged click claimed nothing.
    slack.click(real, channel="CFORGED", thread_ts=root)
    slack.fake.wait_for(
        "chat.postMessage",
        count=2,
        where=lambda c: c.params.get("channel") == "CFORGED" and c.params.get("thread_ts") == root,
    )


def test_clicks_on_two_replicas_post_the_details_once(
    start_bot: Callable[..., Slack], db_url: str
) -> None:
    one, two = start_bot(db_url), start_bot(db_url)
    event = one.paste(KNOWN, channel="CREPLICA")
    root = event["ts"]
    answer = one.wait_answer("CREPLICA", root)
    more = button(answer, DETAILS)
    for replica in (one, two, two, one):
        replica.click(more, channel="CREPLICA", thread_ts=root)
    settle(one)
    settle(two)
    assert len(one.answers("CREPLICA", root)) == 2


def test_five_errors_get_three_answers_and_show_2_more_posts_the_rest_once(slack: Slack) -> None:
    text = "\n".join(f"VM backup failed with error {code}" for code in FIVE)
    ranked = [m.entry.code for m in analyse(text).matches]
    assert sorted(ranked) == sorted(FIVE)
    event = slack.paste(text, channel="CFIVE")
    root = event["ts"]
    slack.wait_answer("CFIVE", root)
    settle(slack)
    first = slack.answers("CFIVE", root)
    assert [h.split(":")[0] for h in headers(first)] == ranked[:3]  # the most relevant first
    for call in first:
        check_limits(call.blocks, str(call.params.get("text", "")))
    show = [b for c in first for b in buttons(c.blocks) if b.get("action_id") == MORE]
    assert len(show) == 1
    assert show[0]["text"]["text"] == "Show 2 more"
    ending = next(c for c in first if show[0] in buttons(c.blocks))
    slack.click(show[0], channel="CFIVE", message_ts=str(ending.params.get("ts")), thread_ts=root)
    rest = slack.fake.wait_for(
        "chat.postMessage",
        count=len(first) + 1,
        where=lambda c: c.params.get("channel") == "CFIVE" and c.params.get("thread_ts") == root,
    )[len(first) :]
    assert [h.split(":")[0] for h in headers(rest)] == ranked[3:]
    for call in rest:
        check_limits(call.blocks, str(call.params.get("text", "")))
        assert MORE not in {b.get("action_id") for b in buttons(call.blocks)}
        assert DETAILS in {b.get("action_id") for b in buttons(call.blocks)}
    # Once: a second click (or a forged one) posts nothing more.
    slack.click(show[0], channel="CFIVE", thread_ts=root)
    forged = {**show[0], "value": json.dumps({"codes": ["NoSuchCode"], "lang": "en"})}
    slack.click(forged, channel="CFIVE", thread_ts=root)
    settle(slack)
    assert len(slack.answers("CFIVE", root)) == len(first) + len(rest)


def test_the_command_answers_all_five_and_holds_none_back(slack: Slack) -> None:
    url = slack.fake.response_url()
    assert slack.client.command("\n".join(FIVE), response_url=url).status == 200
    path = "/" + url.split("127.0.0.1", 1)[1].split("/", 1)[1]

    def replies() -> list[Call]:
        return [c for c in slack.fake.calls("response_url") if c.path == path]

    assert wait_until(lambda: len(headers(replies())) >= len(FIVE))
    settle(slack)
    assert sorted(h.split(":")[0] for h in headers(replies())) == sorted(FIVE)
    assert MORE not in {b.get("action_id") for c in replies() for b in buttons(c.blocks)}


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_first_replies_as_slack_receives_them_stay_within_900_characters(
    slack: Slack, lang: str
) -> None:
    # The entries with the most to say, each pasted alone; zh-TW by the user's locale.
    kb = load_kb()

    def weight(code: str) -> int:
        entry = kb.get(code)
        assert entry is not None
        a = compose(entry, kb, lang)  # type: ignore[arg-type]
        return len(a.title) + len(a.summary) + sum(len(s.text) for s in a.steps)

    alone = [c for c in kb.codes() if [m.code for m in analyse(c).matches] == [c]]
    heavy = sorted(alone, key=weight, reverse=True)[:6]
    user = "UWIDE" + lang.replace("-", "").upper()
    slack.fake.locales[user] = "zh-TW" if lang == "zh-TW" else "en-US"
    sent = [(c, slack.paste(f"Error: {c}", channel="CWIDE", user=user)) for c in heavy]
    for code, event in sent:
        answer = slack.wait_answer("CWIDE", event["ts"])
        assert code in answer.all_text()
        assert visible(answer.blocks) <= 900, (code, visible(answer.blocks))
        assert DETAILS in {b.get("action_id") for b in buttons(answer.blocks)}


def test_details_of_an_answer_only_its_caller_sees_come_privately(slack: Slack) -> None:
    reply = slack.command(KNOWN, user="UPRIVATE", channel="CPRIVATE")
    more = reply.button(DETAILS)
    status, _, url = slack.click(more, user="UPRIVATE", channel="CPRIVATE", ephemeral=True)
    assert status == 200
    path = "/" + url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    said = slack.fake.wait_for("response_url", where=lambda c: c.path == path)[0]
    assert said.params.get("response_type") == "ephemeral"
    assert "Details: " + KNOWN in said.all_text()
    settle(slack)
    assert [
        c for c in slack.fake.calls("chat.postMessage") if c.params.get("channel") == "CPRIVATE"
    ] == []
