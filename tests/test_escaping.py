"""Every reply builder, fed hostile text in every field a user or Azure fills: nothing of it is
live in the message's fallback ``text`` or in any mrkdwn block text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from actions.approvals import ApprovalRequest, Status
from actions.base import Finding, Report
from actions.ledger import AuditRecord
from actions.resources import Outcome, ProtectedVm, VaultRef, VmRef
from bot.blocks import (
    Reply,
    answer_replies,
    entry_replies,
    help_reply,
    list_replies,
    no_match_reply,
    suggestions_reply,
)
from bot.blocks.actions import (
    audit_reply,
    card_blocks,
    card_text,
    chosen_reply,
    notice_reply,
    outcome_reply,
    pick_vm_reply,
    report_reply,
)
from bot.blocks.text import escape
from bot.replies import post_private
from bot.sentences import SENTENCES, sentence
from bot.vm_choice import failure_reply
from knowledge import load_kb
from knowledge.families import default_families, family_answer
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Match, analyse

HOSTILE = "<!channel> <!here> <!subteam^S1> <@U1> <https://evil|click> a & b *_~ *bold* _it_ ~gone~"
LIVE = [
    re.compile(r"<!(channel|here|everyone|subteam)"),
    re.compile(r"<[@#][UWC]"),
    re.compile(r"<https?://evil"),
    re.compile(r"&(?!amp;|lt;|gt;)"),  # a bare ampersand starts an entity of its own
]
MARKS = re.compile(r"(\*_~|\*bold\*|_it_|~gone~)")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


def mrkdwn_texts(node: Any) -> Iterator[str]:
    """Every mrkdwn string in a block tree (plain_text is shown as typed: nothing in it is live)."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for child in node.values():
            yield from mrkdwn_texts(child)
    elif isinstance(node, list):
        for child in node:
            yield from mrkdwn_texts(child)


def live(text: str) -> list[str]:
    """What of the hostile input would act in Slack: mentions, links, entities, formatting."""
    found = [m[0] for pattern in LIVE for m in pattern.finditer(text)]
    # Marks do not format inside inline code, nor in a link's target (only its label shows).
    shown = re.sub(r"`[^`]*`|<[^|<>]*\|", "", text)
    return found + [m[0] for m in MARKS.finditer(shown)]


def check(reply: Reply | tuple[str, list[dict[str, Any]]]) -> None:
    text, blocks = (reply.text, reply.blocks) if isinstance(reply, Reply) else reply
    assert live(text) == [], text
    for said in mrkdwn_texts(blocks):
        assert live(said) == [], said


def test_the_checker_sees_raw_hostile_text() -> None:
    # The test can fail: unescaped hostile text is caught, escaped hostile text is not.
    assert len(live(HOSTILE)) >= 8
    assert live(escape(HOSTILE)) == []


def vm(name: str = HOSTILE) -> ProtectedVm:
    vault = VaultRef("sub", "rg", HOSTILE)
    return ProtectedVm(
        vault=vault,
        vm=VmRef("sub", "rg", name),
        container=HOSTILE,
        item=HOSTILE,
        friendly_name=name,
        protection_state=HOSTILE,
        health_status=HOSTILE,
        last_backup_status=HOSTILE,
        last_backup_time=None,
        policy_id=HOSTILE,
    )


def request(status: Status = Status.PENDING) -> ApprovalRequest:
    return ApprovalRequest(
        id=HOSTILE,
        action="trigger_backup",
        params={"note": HOSTILE},
        plan=HOSTILE,
        plan_hash="a" * 64,
        requester=HOSTILE,
        channel="C1",
        thread_ts="1.1",
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=30),
        status=status,
        decided_by=HOSTILE,
        outcome={"superseded_by": HOSTILE},
    )


def a_match(kb: KnowledgeBase) -> Match:
    found = analyse("UserErrorGuestAgentStatusUnavailable", kb=kb).matches[0]
    return replace(found, code=HOSTILE, excerpt=HOSTILE)


BUILDERS: dict[str, Callable[[KnowledgeBase], list[Reply]]] = {
    "answer": lambda kb: answer_replies([a_match(kb)], kb, "en", paste_hash="ab" * 8, share=True),
    "answer zh-TW": lambda kb: answer_replies([a_match(kb)], kb, "zh-TW", paste_hash="ab" * 8),
    "entry": lambda kb: entry_replies(a_match(kb).entry, kb, "en", paste_hash="ab" * 8),
    "family": lambda kb: answer_replies(
        [],
        kb,
        "en",
        paste_hash="ab" * 8,
        families=[
            replace(
                family_answer("UserErrorZz", "x", families=default_families()),
                code=HOSTILE,
                message=HOSTILE,
                operation=HOSTILE,
            )
        ],
    ),
    "suggestions": lambda kb: [suggestions_reply([a_match(kb)], "en")],
    "help, no match, list": lambda kb: [
        help_reply("en"),
        no_match_reply("zh-TW"),
        *list_replies(kb, "en"),
    ],
    "vm menu": lambda kb: [pick_vm_reply([vm(), vm("vm_prod_01")], HOSTILE, lang="en")],
    "empty vm menu": lambda kb: [pick_vm_reply([], HOSTILE, lang="zh-TW")],
    "chosen vm": lambda kb: [chosen_reply(vm(), HOSTILE, lang="en")],
    "report": lambda kb: [
        report_reply(
            Report(
                action="job_details",
                target=HOSTILE,
                findings=(Finding(HOSTILE, HOSTILE, False), Finding("x", HOSTILE)),
                summary=HOSTILE,
            ),
            HOSTILE,
            ["trigger_backup"],
            lang="en",
        )
    ],
    "approval card": lambda kb: [
        Reply(card_text(request()), card_blocks(request(), now=NOW, editable=True)),
        Reply(card_text(request(Status.REJECTED)), card_blocks(request(Status.REJECTED))),
        Reply(card_text(request(), lang="zh-TW"), card_blocks(request(Status.SUCCEEDED))),
    ],
    "outcome": lambda kb: [
        outcome_reply(
            request(),
            Outcome(
                ok=False,
                summary=HOSTILE,
                job_id=HOSTILE,
                correlation_id=HOSTILE,
                portal_url="https://portal.azure.com/#x",
                details={HOSTILE: HOSTILE},
            ),
        )
    ],
    "audit": lambda kb: [
        audit_reply(
            [AuditRecord(1, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, "b" * 64, HOSTILE, {})],
            lang="en",
        ),
        audit_reply(
            [AuditRecord(2, "t", "U1", "e", None, None, None, None, {HOSTILE: HOSTILE})],
            lang="zh-TW",
        ),
    ],
    "notices and refusals": lambda kb: [
        notice_reply(HOSTILE),
        failure_reply("ref-1", HOSTILE, lang="en"),
        *(
            notice_reply(sentence(key, lang, **dict.fromkeys(_fields(key, lang), HOSTILE)))
            for key in SENTENCES
            for lang in ("en", "zh-TW")
        ),
    ],
}


def _fields(key: str, lang: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", SENTENCES[key][lang])  # type: ignore[index]


@pytest.mark.parametrize("name", list(BUILDERS))
def test_hostile_input_is_inert_everywhere(name: str, kb: KnowledgeBase) -> None:
    replies = BUILDERS[name](kb)
    assert replies
    for reply in replies:
        check(reply)


def test_a_private_refusal_is_escaped_too() -> None:
    sent: dict[str, Any] = {}

    class Client:
        def chat_postEphemeral(self, **kw: Any) -> dict[str, Any]:  # noqa: N802 (Slack's name)
            sent.update(kw)
            return {"ok": True}

    class Deps:
        class metrics:  # noqa: N801 (a stand-in for the counters)
            class replies:  # noqa: N801
                @staticmethod
                def labels(*_a: str) -> Any:
                    return type("C", (), {"inc": lambda self: None})()

    said = sentence("vm_not_allowed", "en", name=HOSTILE)
    assert post_private(Deps(), Client(), "C1", "U1", said)  # type: ignore[arg-type]
    check((sent["text"], []))


def test_names_inside_words_stay_as_typed() -> None:
    # vm_prod_01 cannot format, so it is not altered: it can be copied back into the portal.
    assert escape("vm_prod_01 on PROGRA~1") == "vm_prod_01 on PROGRA~1"
    assert escape("*bold*") != "*bold*"
