"""The short first answer: within 900 visible characters for every shipped entry in both
languages, cut cleanly when an entry says too much; "Show N more" beyond three answers; the
details Slack posts are the details `backup-fix diagnose` prints."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import ids
from bot.blocks import UNASKED_ANSWERS, answer_replies, details_replies, more_replies
from bot.blocks.fit import allot, cut_words
from bot.blocks.labels import LABELS
from knowledge.answer import compose, details
from knowledge.loader import load_kb
from knowledge.matcher import Match
from knowledge.model import LANGS, Lang
from knowledge.render import render_match
from tests.test_blocks import AGENT, LIMIT, _entry, buttons, check_all, make_kb, texts, visible

LIMIT_CHARS = 900
EVERY_ACTION = (
    "vm_agent_status",
    "job_details",
    "protection_status",
    "restore_points",
    "locks",
    "trigger_backup",
    "cancel_job",
    "remove_snapshot_extension",
    "remove_rg_lock",
    "delete_restore_point_collection",
    "resume_protection",
)
SHIPPED = load_kb()


def worst_case(code: str, lang: Lang) -> list[dict[str, Any]]:
    """The first reply to ``code`` with the longest excerpt and every action enabled."""
    entry = SHIPPED.get(code)
    assert entry is not None
    paste = f"Error: {code} " + "x" * 400
    m = Match(code, entry, 100, "code", paste, (0, len(paste)))
    replies = answer_replies([m], SHIPPED, lang, paste_hash="0" * 64, actions=EVERY_ACTION)
    check_all(replies)
    assert len(replies) == 1
    return replies[0].blocks


def step_lines(blocks: list[dict[str, Any]]) -> list[str]:
    steps = [b for b in blocks if b.get("block_id", "").startswith("steps")]
    return [line for b in steps for line in b["text"]["text"].split("\n")[1:]]


@pytest.mark.parametrize("lang", LANGS)
def test_every_shipped_entry_first_reply_within_900_visible_characters(lang: Lang) -> None:
    cut = []
    for code in SHIPPED.codes():
        blocks = worst_case(code, lang)
        assert visible(blocks) <= LIMIT_CHARS, (code, visible(blocks))
        lines = step_lines(blocks)
        entry = SHIPPED.get(code)
        assert entry is not None
        assert 0 < len(lines) <= min(5, len(entry.steps)), code
        assert all(re.match(r"\d\. \S", line) for line in lines), code  # one line each
        details_button = next(b for b in buttons_of(blocks) if b["action_id"] == ids.DETAILS)
        if json.loads(details_button["value"])["steps"]:
            cut.append(code)
    # Cutting is for the few entries that say too much, not the rule.
    assert len(cut) < len(SHIPPED.entries) // 10, cut


def buttons_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.mark.parametrize("lang", LANGS)
def test_a_cut_first_reply_ends_its_texts_cleanly_and_its_details_repeat_the_steps(
    lang: Lang,
) -> None:
    entry = _entry(
        "UserErrorTalkative",
        summary={
            "en": "Because " + "the agent said so, " * 60,
            "zh-TW": "因為" + "代理程式如此回報，" * 80,
        },
        steps=[
            {
                "text": {
                    "en": f"Step {n}: run `vssadmin list writers` and " + "check " * 60,
                    "zh-TW": f"步驟 {n}：執行 `vssadmin list writers`，" + "確認狀態" * 60,
                }
            }
            for n in range(1, 8)
        ],
    )
    kb = make_kb(entry, AGENT, LIMIT)
    replies = answer_replies(
        [Match(entry.code, entry, 100, "code", entry.code, (0, 1))], kb, lang, paste_hash="h"
    )
    check_all(replies)
    blocks = replies[0].blocks
    assert visible(blocks) <= LIMIT_CHARS
    lines = step_lines(blocks)
    assert len(lines) == 5
    for line in lines:
        assert line.endswith("…")
        assert line.count("`") % 2 == 0  # never cut inside a code span
        if lang == "en":
            assert re.search(r"(^|\s)\S+…$", line)
            word = line.rsplit(" ", 1)[-1].rstrip("…")
            assert word in {"check", "and", "`vssadmin", "writers`", "list"} or word.endswith(":")
    value = json.loads(next(b for b in buttons(replies) if b["action_id"] == ids.DETAILS)["value"])
    assert value["steps"] == 1
    body = texts(details_replies(entry, kb, lang, steps=True))
    for step in entry.steps:
        assert step.text.get(lang).strip() in body


def test_cut_words() -> None:
    assert cut_words("short enough", 20) == "short enough"
    assert cut_words("one two three four", 12) == "one two…"
    assert cut_words("see `kubectl get pods -n ns` now", 20) == "see…"
    assert cut_words("x" * 50, 10) == "x" * 9 + "…"
    zh = "確認代理程式正在執行，然後重試備份作業。"
    assert cut_words(zh, 8) == zh[:7] + "…"
    assert cut_words("確認 `kubectl get pods` 的輸出", 14) == "確認…"


@given(st.lists(st.integers(0, 400), max_size=8), st.integers(0, 2000))
def test_allot_gives_the_largest_cap_that_fits(lengths: list[int], budget: int) -> None:
    cap = allot(lengths, budget, floor=40)
    if cap is None:
        assert sum(min(n, 40) for n in lengths) > budget
        return
    assert sum(min(n, cap) for n in lengths) <= budget
    if sum(lengths) > budget:
        assert sum(min(n, cap + 1) for n in lengths) > budget


def several(n: int) -> list[Match]:
    entries = [
        _entry(f"UserErrorNumber{i}", steps=[{"text": {"en": "Go.", "zh-TW": "執行。"}}])
        for i in range(n)
    ]
    return [Match(e.code, e, 100, "code", e.code, (0, 1)) for e in entries]


@pytest.mark.parametrize("lang", LANGS)
def test_five_matches_unasked_three_answers_then_show_2_more(lang: Lang) -> None:
    matches = several(5)
    kb = make_kb(*(m.entry for m in matches))
    replies = answer_replies(matches, kb, lang, paste_hash="ab" * 8, limit=UNASKED_ANSWERS)
    check_all(replies)
    heads = [
        b["text"]["text"].split(":")[0] for r in replies for b in r.blocks if b["type"] == "header"
    ]
    assert heads == [m.code for m in matches[:3]]
    more = [b for b in buttons(replies) if b["action_id"] == ids.MORE]
    assert len(more) == 1
    assert more[0]["text"]["text"] == LABELS["show_more"][lang].format(count=2)
    assert json.loads(more[0]["value"]) == {
        "codes": [m.code for m in matches[3:]],
        "lang": lang,
        "hash": "ab" * 8,
    }
    assert all(m.code in texts(replies) for m in matches[3:])  # named, not answered
    asked = answer_replies(matches, kb, lang, paste_hash="h")
    assert not [b for b in buttons(asked) if b["action_id"] == ids.MORE]
    assert texts(asked).count(LABELS["steps"][lang]) == 5
    rest = more_replies([(m.entry, m.code) for m in matches[3:]], kb, lang, paste_hash="h")
    check_all(rest)
    assert [
        b["text"]["text"].split(":")[0] for r in rest for b in r.blocks if b["type"] == "header"
    ] == [m.code for m in matches[3:]]


@pytest.mark.parametrize("lang", LANGS)
def test_slack_details_say_what_diagnose_prints(lang: Lang) -> None:
    for entry in SHIPPED.entries:
        answer = compose(entry, SHIPPED, lang)
        said = details(answer)
        posted = details_replies(entry, SHIPPED, lang, actions=EVERY_ACTION)
        check_all(posted)
        slack = texts(posted).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        m = Match(entry.code, entry, 100, "code", entry.code, (0, 1))
        terminal = " ".join(" ".join(render_match(m, SHIPPED, lang, width=10_000)).split())
        steps = [s.text for sec in said.sections for s in sec.steps]
        notes = [n for sec in said.sections for n in sec.notes]
        for text in [
            *said.causes,
            *(s.title for s in said.sections),
            *steps,
            *notes,
            *said.notes,
            *(x.url for x in said.links),
        ]:
            assert text in slack, (entry.code, text)
            assert " ".join(text.split()) in terminal, (entry.code, text)
        for x in said.related:
            assert x.label in slack
            assert x.label in terminal
