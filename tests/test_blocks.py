"""Block Kit builders: content, both languages, and Slack's limits, all without Slack."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block as SdkBlock

from bot import ids
from bot.blocks import (
    Reply,
    answer_replies,
    details_replies,
    entry_replies,
    help_reply,
    list_replies,
    no_match_reply,
    suggestions_reply,
)
from bot.blocks.labels import LABELS
from knowledge.loader import KnowledgeBase, load_kb
from knowledge.matcher import Match
from knowledge.model import LANGS, Article, Entry, Lang, Section

BLOCK_TYPES = {"header", "section", "context", "actions", "divider"}
ALL_ACTIONS = ("vm_agent_status", "job_details", "trigger_backup", "cancel_job", "locks")


# --- a small knowledge base built from the models -------------------------------------------


def _t(en: str, zh: str | None = None) -> dict[str, str]:
    return {"en": en, "zh-TW": zh or f"中文 {en}"}


ARTICLES = {
    "snapshot-timeout": Article.model_validate(
        {"id": "snapshot-timeout", "slug": "snap", "title": _t("Agent & extension issues")}
    ),
    "vms-troubleshoot": Article.model_validate(
        {"id": "vms-troubleshoot", "slug": "vms", "title": _t("VM backup errors")}
    ),
}
SECTION = Section.model_validate(
    {
        "id": "agent-unresponsive",
        "title": _t("Agent unresponsive", "代理程式沒有回應"),
        "summary": _t("The agent may be corrupted."),
        "steps": [
            {"text": _t("Restart the guest agent service."), "action": "vm_agent_status"},
            {"text": _t("Run a backup."), "action": "trigger_backup"},
        ],
        "notes": [_t("Needs .NET 4.5.")],
        "diagnostics": ["vm_agent_status"],
        "remediations": ["trigger_backup"],
        "docs": [{"article": "snapshot-timeout", "anchor": "agent-unresponsive"}],
    }
)


def _entry(code: str, **extra: Any) -> Entry:
    data: dict[str, Any] = {
        "code": code,
        "workload": "vm",
        "title": _t(f"Title of {code}"),
        "messages": [{"text": f"Message of {code}"}],
        "summary": _t(f"Summary of {code} with <tags> & ampersands."),
        "docs": [{"article": "vms-troubleshoot", "anchor": code.lower()}],
    }
    data.update(extra)
    return Entry.model_validate(data)


AGENT = _entry(
    "UserErrorGuestAgentStatusUnavailable",
    causes=[{"text": _t("The agent is stopped.")}, {"section": "agent-unresponsive"}],
    steps=[
        {"text": _t("Check the agent status in the portal."), "action": "vm_agent_status"},
        {"text": _t("Restart the agent."), "see": "agent-unresponsive"},
    ],
    notes=[_t("Linux VMs differ.")],
    diagnostics=["vm_agent_status", "job_details"],
    remediations=["trigger_backup"],
    related=["UserErrorRpCollectionLimitReached"],
    docs=[{"article": "snapshot-timeout", "anchor": "agent"}],
)
LIMIT = _entry("UserErrorRpCollectionLimitReached", steps=[{"text": _t("Delete old points.")}])


def make_kb(*entries: Entry) -> KnowledgeBase:
    """A knowledge base of ``entries`` plus the shared section and articles above."""
    by_code = {e.code.casefold(): e for e in entries}
    return KnowledgeBase(tuple(entries), {SECTION.id: SECTION}, ARTICLES, by_code)


KB = make_kb(AGENT, LIMIT)


def match(entry: Entry, excerpt: str = "", code: str | None = None) -> Match:
    return Match(code or entry.code, entry, 100, "code", excerpt or entry.code, (0, 1))


# --- structure checks -------------------------------------------------------------------------


def _buttons(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if block["type"] == "actions":
        yield from block["elements"]
    if "accessory" in block:
        yield block["accessory"]


def buttons(replies: list[Reply]) -> list[dict[str, Any]]:
    return [b for r in replies for block in r.blocks for b in _buttons(block)]


def texts(replies: list[Reply], *, mrkdwn_only: bool = False) -> str:
    """All visible text of ``replies``, in order (only what Slack parses as mrkdwn if asked)."""
    out = []
    for reply in replies:
        for block in reply.blocks:
            if "text" in block and not (mrkdwn_only and block["text"]["type"] == "plain_text"):
                out.append(block["text"]["text"])
            out += [
                e["text"]
                for e in block.get("elements", [])
                if "text" in e and e["type"] != "button"
            ]
    return "\n".join(out)


def check_reply(reply: Reply) -> None:
    """Everything Slack would reject, asserted on one message."""
    assert 0 < len(reply.text) <= 3000
    assert 0 < len(reply.blocks) <= 50
    block_ids = [b["block_id"] for b in reply.blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)) == len(reply.blocks)
    pairs = []
    for block in reply.blocks:
        assert block["type"] in BLOCK_TYPES
        assert 0 < len(block["block_id"]) <= 255
        assert SdkBlock.parse(block) is not None
        SdkBlock.parse(block).validate_json()  # type: ignore[union-attr]
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert block["text"]["type"] in {"mrkdwn", "plain_text"}
            assert block["text"]["text"].strip()
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                assert element["type"] in {"mrkdwn", "plain_text"}
                assert 0 < len(element["text"]) <= 3000
        if block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            in_block = [e["action_id"] for e in block["elements"]]
            assert len(in_block) == len(set(in_block))
        for button in _buttons(block):
            assert button["type"] == "button"
            assert button["action_id"].startswith(ids.PREFIX)
            assert button["text"]["type"] == "plain_text"
            assert 0 < len(button["text"]["text"]) <= 75
            assert 0 < len(button["value"]) <= 2000
            pairs.append((block["block_id"], button["action_id"]))
    assert len(pairs) == len(set(pairs))


def visible(blocks: list[dict[str, Any]]) -> int:
    """Characters a reader sees: header, section and context text; a link shows its label."""
    seen = 0
    for block in blocks:
        parts = [block.get("text")] if block["type"] in ("header", "section") else []
        parts += block.get("elements", []) if block["type"] == "context" else []
        for part in parts:
            text = re.sub(r"<[^|<>]*\|([^<>]*)>", r"\1", part["text"])
            seen += len(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    return seen


def check_all(replies: list[Reply]) -> None:
    assert replies
    for reply in replies:
        check_reply(reply)


def esc(text: str) -> str:
    return "".join({"&": "&amp;", "<": "&lt;", ">": "&gt;"}.get(c, c) for c in text)


def unescaped_controls(mrkdwn: str) -> str:
    """``mrkdwn`` with links and entities taken out: any < > & left was not escaped."""
    return re.sub(r"<[^<>|]+\|[^<>]*>|&(amp|lt|gt);", "", mrkdwn)


# --- answers ----------------------------------------------------------------------------------


def in_order(body: str, parts: list[str]) -> None:
    positions = [body.find(p) for p in parts]
    assert -1 not in positions, [p for p, i in zip(parts, positions, strict=True) if i == -1]
    assert positions == sorted(positions)


@pytest.mark.parametrize("lang", LANGS)
def test_short_answer_then_its_details_have_every_part_in_order(lang: Lang) -> None:
    replies = answer_replies(
        [match(AGENT, "x UserErrorGuestAgentStatusUnavailable y")], KB, lang, paste_hash="h1"
    )
    check_all(replies)
    assert len(replies) == 1
    header = replies[0].blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == f"{AGENT.code}: {AGENT.title.get(lang)}"
    short = texts(replies)
    in_order(
        short,
        [
            "`x UserErrorGuestAgentStatusUnavailable y`",
            esc(AGENT.summary.get(lang)),
            LABELS["steps"][lang],
            "1. " + AGENT.steps[0].text.get(lang),
            "2. " + AGENT.steps[1].text.get(lang),
            f"<{ARTICLES['snapshot-timeout'].url(lang, 'agent')}|",
            "Microsoft Docs",
        ],
    )
    # The rest waits for "Show details": no causes, shared sections, notes or related errors.
    for later in ("causes", "notes", "related", "see_below"):
        assert LABELS[later][lang].split("{")[0] not in short
    assert SECTION.steps[0].text.get(lang) not in short
    assert unescaped_controls(short).count("<") == 0
    assert replies[0].text == f"{AGENT.code}: {AGENT.title.get(lang)}"

    more = details_replies(AGENT, KB, lang)
    check_all(more)
    body = texts(more)
    in_order(
        body,
        [
            AGENT.code,
            LABELS["causes"][lang],
            "• " + AGENT.causes[0].text.get(lang),  # type: ignore[union-attr]
            f"*{SECTION.title.get(lang)}*",
            "1. " + SECTION.steps[0].text.get(lang),
            "2. " + SECTION.steps[1].text.get(lang),
            LABELS["notes"][lang],
            LABELS["related"][lang],
            LABELS["docs"][lang],
            "Microsoft Docs",
        ],
    )
    assert LABELS["steps"][lang] not in body  # the short answer showed them whole
    assert unescaped_controls(body).count("<") == 0
    again = texts(details_replies(AGENT, KB, lang, steps=True))
    see = LABELS["see_below"][lang].format(title=SECTION.title.get(lang))
    assert "2. " + AGENT.steps[1].text.get(lang) + " " + see in again


@pytest.mark.parametrize("lang", LANGS)
def test_action_buttons_only_for_enabled_names_the_answer_offers(lang: Lang) -> None:
    none = answer_replies([match(AGENT)], KB, lang, paste_hash="h")
    assert {b["action_id"] for b in buttons(none)} == {
        ids.DETAILS,
        ids.FEEDBACK_HELPED,
        ids.FEEDBACK_NOT_HELPED,
    }
    some = answer_replies([match(AGENT)], KB, lang, paste_hash="h", actions=ALL_ACTIONS)
    check_all(some)
    by_id = {b["action_id"]: b for b in buttons(some)}
    # cancel_job and locks are enabled but this answer does not offer them.
    assert set(by_id) == {
        ids.diagnose_id("vm_agent_status"),
        ids.diagnose_id("job_details"),
        ids.request_id("trigger_backup"),
        ids.DETAILS,
        ids.FEEDBACK_HELPED,
        ids.FEEDBACK_NOT_HELPED,
    }
    details = by_id[ids.DETAILS]
    assert json.loads(details["value"]) == {"code": AGENT.code, "lang": lang, "steps": 0}
    assert details["text"]["text"] == LABELS["show_details"][lang]
    trigger = by_id[ids.request_id("trigger_backup")]
    assert json.loads(trigger["value"]) == {"code": AGENT.code, "action": "trigger_backup"}
    assert " " not in trigger["value"]
    assert trigger["text"]["text"] == {"en": "Run on-demand backup", "zh-TW": "執行隨選備份"}[lang]
    helped = by_id[ids.FEEDBACK_HELPED]
    assert json.loads(helped["value"]) == {"code": AGENT.code, "hash": "h"}
    assert helped["text"]["text"] == LABELS["helped"][lang]
    assert by_id[ids.FEEDBACK_NOT_HELPED]["text"]["text"] == LABELS["not_helped"][lang]
    # A step tied to an offered action points at its button.
    assert LABELS["use_button"][lang].split("{")[0] in texts(some)
    assert LABELS["use_button"][lang].split("{")[0] not in texts(none)


def test_share_button_only_when_asked() -> None:
    plain = answer_replies([match(AGENT), match(LIMIT)], KB, "en", paste_hash="h")
    assert ids.SHARE not in {b["action_id"] for b in buttons(plain)}
    shared = answer_replies([match(AGENT), match(LIMIT)], KB, "zh-TW", paste_hash="h", share=True)
    check_all(shared)
    share = [b for b in buttons(shared) if b["action_id"] == ids.SHARE]
    assert len(share) == 1
    assert json.loads(share[0]["value"]) == {"codes": [AGENT.code, LIMIT.code], "lang": "zh-TW"}
    assert share[0]["text"]["text"] == "分享到頻道"
    assert shared[-1].blocks[-1]["elements"][0]["action_id"] == ids.SHARE


def test_several_matches_one_complete_answer_after_another() -> None:
    replies = answer_replies([match(AGENT), match(LIMIT)], KB, "en", paste_hash="h")
    check_all(replies)
    blocks = [b for r in replies for b in r.blocks]
    headers = [i for i, b in enumerate(blocks) if b["type"] == "header"]
    assert [blocks[i]["text"]["text"].split(":")[0] for i in headers] == [AGENT.code, LIMIT.code]
    feedback = [
        (i, json.loads(e["value"])["code"])
        for i, b in enumerate(blocks)
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.FEEDBACK_HELPED
    ]
    # Each answer's feedback sits after its own header and before the next answer's.
    assert [code for _, code in feedback] == [AGENT.code, LIMIT.code]
    assert headers[0] < feedback[0][0] < headers[1] < feedback[1][0]
    assert blocks[headers[1] - 1]["type"] == "divider"
    assert replies[0].text == f"{AGENT.code}: {AGENT.title.en}\n{LIMIT.code}: {LIMIT.title.en}"


def test_paste_excerpt_is_escaped_folded_and_shortened() -> None:
    paste = "Error `x` <script>&amp;\n\n  " + "A" * 500
    replies = answer_replies([match(LIMIT, paste)], KB, "en", paste_hash="h")
    check_all(replies)
    matched = next(b for b in replies[0].blocks if b["block_id"].startswith("matched"))
    line = matched["elements"][0]["text"]
    assert line.startswith("Matched: `Error 'x' &lt;script&gt;&amp;amp; AAA")
    assert line.endswith("…`")
    assert line.count("`") == 2
    assert len(line) < 260


def test_alias_code_shown_but_buttons_carry_the_entry_code() -> None:
    replies = answer_replies([match(LIMIT, code="RpCollectionLimit")], KB, "en", paste_hash="h")
    assert replies[0].blocks[0]["text"]["text"].startswith("RpCollectionLimit: ")
    assert json.loads(buttons(replies)[0]["value"])["code"] == LIMIT.code


def test_no_matches_is_the_no_match_reply() -> None:
    assert answer_replies([], KB, "en", paste_hash="h") == [no_match_reply("en")]


# --- limits -----------------------------------------------------------------------------------


def _huge_kb() -> tuple[KnowledgeBase, Entry]:
    steps = [{"text": _t(f"Step {n} " + "word & <more> " * 80)} for n in range(1, 201)]
    steps.insert(100, {"text": _t("Enormous " + "x" * 10_000)})
    entry = _entry(
        "UserErrorHugeEntry",
        title=_t("T" * 400),
        steps=steps,
        causes=[{"text": _t(f"Cause {n} " + "c" * 300)} for n in range(40)],
        diagnostics=["vm_agent_status"],
        remediations=["trigger_backup", "cancel_job"],
    )
    return make_kb(entry, AGENT, LIMIT), entry


@pytest.mark.parametrize("lang", LANGS)
def test_huge_entry_is_short_first_and_whole_in_its_details(lang: Lang) -> None:
    kb, huge = _huge_kb()
    replies = answer_replies(
        [match(huge), match(AGENT)], kb, lang, paste_hash="h", actions=ALL_ACTIONS, share=True
    )
    check_all(replies)
    assert len(replies) == 1
    blocks = replies[0].blocks
    second = next(i for i, b in enumerate(blocks) if b["type"] == "divider")
    assert visible(blocks[:second]) <= 900
    assert visible(blocks[second:]) <= 900
    short = texts(replies)
    assert "\n5. " in short
    assert "\n6. " not in short
    assert blocks[0]["text"]["text"].endswith("…")
    details = next(b for b in buttons(replies) if b["action_id"] == ids.DETAILS)
    assert json.loads(details["value"]) == {"code": huge.code, "lang": lang, "steps": 1}
    assert short.count(esc(AGENT.summary.get(lang))) == 1

    more = details_replies(huge, kb, lang, steps=True, actions=ALL_ACTIONS)
    check_all(more)
    assert len(more) >= 3
    body = texts(more)
    for n in range(1, 202):  # 200 steps plus the enormous one, all numbered, none lost
        assert f"\n{n}. " in body
    enormous = next(line for line in body.split("\n") if "Enormous" in line)
    label = LABELS["more"][lang]
    doc = ARTICLES["vms-troubleshoot"].url(lang, "usererrorhugeentry")
    assert enormous.endswith(f"x… <{doc}|{label}>")
    assert len(enormous) <= 3000


def test_huge_entry_opened_by_hand_is_within_limits() -> None:
    kb, huge = _huge_kb()
    check_all(entry_replies(huge, kb, "en", paste_hash="h", actions=ALL_ACTIONS, share=True))


printable = st.text(string.printable + "中文`*_~<>&|…😀", max_size=400)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(excerpt=printable, step=printable, title=st.text(min_size=1, max_size=300).filter(str.strip))
def test_any_text_stays_within_limits(excerpt: str, step: str, title: str) -> None:
    entry = _entry(
        "UserErrorAnything",
        title={"en": title, "zh-TW": title},
        steps=[{"text": _t(step * 10)}] if step.strip() else [],
    )
    replies = answer_replies([match(entry, excerpt)], make_kb(entry), "en", paste_hash="h")
    check_all(replies)
    assert not re.search("[<>&]", unescaped_controls(texts(replies, mrkdwn_only=True)))
    assert not re.search("[<>&]", unescaped_controls(replies[0].text))


# --- the other replies ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_help_reply_explains_every_command(lang: Lang) -> None:
    reply = help_reply(lang)
    check_reply(reply)
    body = texts([reply])
    for word in ("/backup-fix &lt;", "/backup-fix help", "/backup-fix list", "--lang en|zh-TW"):
        assert word in body
    assert LABELS["help_thread"][lang] in body


@pytest.mark.parametrize("lang", LANGS)
def test_no_match_reply_points_at_list(lang: Lang) -> None:
    reply = no_match_reply(lang)
    check_reply(reply)
    assert "`/backup-fix list`" in reply.text
    assert reply.text == reply.blocks[0]["text"]["text"]


@pytest.mark.parametrize("lang", LANGS)
def test_suggestions_at_most_three_distinct_buttons(lang: Lang) -> None:
    long_code = "E" + "x" * 99
    entries = [_entry(long_code), *(_entry(f"UserErrorNumber{n}") for n in range(5))]
    matches = [match(entries[1]), match(entries[1]), *(match(e) for e in entries)]
    reply = suggestions_reply(matches, lang)
    check_reply(reply)
    opens = buttons([reply])
    assert [b["value"] for b in opens] == [entries[1].code, long_code, entries[2].code]
    assert {b["action_id"] for b in opens} == {ids.OPEN_ENTRY}
    assert opens[1]["text"]["text"].endswith("…")
    assert LABELS["did_you_mean"][lang] in texts([reply])
    assert entries[1].title.get(lang) in texts([reply])
    assert suggestions_reply([], lang) == no_match_reply(lang)


@pytest.mark.parametrize("lang", LANGS)
def test_list_groups_codes_by_article(lang: Lang) -> None:
    replies = list_replies(KB, lang)
    check_all(replies)
    body = texts(replies)
    assert body.count(f"`{AGENT.code}`") == body.count(f"`{LIMIT.code}`") == 1
    snap = body.find(ARTICLES["snapshot-timeout"].title.get(lang).replace("&", "&amp;"))
    vms = body.find(ARTICLES["vms-troubleshoot"].title.get(lang))
    assert -1 < snap < body.find(AGENT.code) < vms < body.find(LIMIT.code)
    assert "(2)" in replies[0].blocks[0]["text"]["text"]


def test_long_list_is_split() -> None:
    entries = [_entry(f"UserErrorCode{n:04d}", title=_t("t " * 400)) for n in range(600)]
    replies = list_replies(make_kb(*entries), "en")
    check_all(replies)
    assert len(replies) > 1
    body = texts(replies)
    assert all(f"`{e.code}`" in body for e in entries)


@pytest.mark.parametrize("lang", LANGS)
def test_entry_reply_has_no_excerpt_but_everything_else(lang: Lang) -> None:
    replies = entry_replies(AGENT, KB, lang, paste_hash="h", actions=["job_details"], share=True)
    check_all(replies)
    assert not any(b["block_id"].startswith("matched") for b in replies[0].blocks)
    assert {b["action_id"] for b in buttons(replies)} == {
        ids.diagnose_id("job_details"),
        ids.DETAILS,
        ids.FEEDBACK_HELPED,
        ids.FEEDBACK_NOT_HELPED,
        ids.SHARE,
    }


def test_every_label_in_both_languages_with_the_same_placeholders() -> None:
    for key, by_lang in LABELS.items():
        assert set(by_lang) == set(LANGS), key
        assert all(t.strip() for t in by_lang.values()), key
        fields = [set(re.findall(r"\{(\w+)\}", t)) for t in by_lang.values()]
        assert fields[0] == fields[1], key


@pytest.mark.parametrize("lang", LANGS)
def test_every_shipped_entry_renders_within_limits(lang: Lang) -> None:
    kb = load_kb()
    for entry in kb.entries:
        check_all(entry_replies(entry, kb, lang, paste_hash="h", actions=ALL_ACTIONS))
    check_all(list_replies(kb, lang))
