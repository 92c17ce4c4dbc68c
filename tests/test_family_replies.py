"""Unknown codes: the family answer in Block Kit and on a terminal, and who gets it.

The matcher's ``Analysis.unknown_codes`` is built by hand here, so these tests hold whatever the
matcher finds; tests/acceptance/test_unknown_codes.py drives the real matcher over HTTP.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import ids
from bot.blocks import answer_replies
from bot.blocks.labels import LABELS
from bot.listeners import Deps, commands, mentions, messages
from bot.locale import LocaleCache
from bot.metrics import Metrics
from bot.settings import Settings
from knowledge.families import family_answer, family_answers
from knowledge.matcher import Analysis, Match
from knowledge.model import LANGS, Lang
from knowledge.render import render_analysis
from store import Store, open_store, unmatched_pastes
from tests.test_blocks import KB, LIMIT, buttons, check_all, match, texts, unescaped_controls

CODE = "BMSUserErrorMadeUpForTestsXyz"
PASTE = f'{{"errorCode": "{CODE}", "errorString": "The vault said no", "operation": "Backup"}}'
HOSTILE = (
    f"({CODE}) <!channel> <@U024BE7LH> <https://evil.example|click> *bold* `tick` & co "
    + "x" * 3000
)


def analysis(*, matches: list[Match] | None = None, unknown: list[str] | None = None) -> Analysis:
    return Analysis(matches or [], [], None, False, unknown_codes=unknown or [])


# --- Block Kit --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_family_answer_has_explanation_message_operation_steps_and_search(lang: Lang) -> None:
    answer = family_answer(CODE, PASTE)
    replies = answer_replies([], KB, lang, paste_hash="h", families=[answer])
    check_all(replies)
    body = texts(replies)
    family = answer.family
    parts = [
        CODE,
        family.title.get(lang),
        LABELS["family_unknown"][lang],
        family.explanation.get(lang),
        "`The vault said no`",
        "`Backup`",
        family.steps[0].get(lang),
        f"<{answer.search_url(lang)}|",
    ]
    positions = [body.find(p) for p in parts]
    assert -1 not in positions, [p for p, i in zip(parts, positions, strict=True) if i == -1]
    assert positions == sorted(positions)
    assert ("zh-tw" in answer.search_url(lang)) == (lang == "zh-TW")
    assert buttons(replies) == []  # no feedback or share buttons for a code nobody explained
    assert CODE in replies[0].text


def test_known_answers_come_first_then_the_family() -> None:
    answer = family_answer(CODE, PASTE)
    replies = answer_replies([match(LIMIT)], KB, "en", paste_hash="h", families=[answer])
    check_all(replies)
    body = texts(replies)
    assert 0 <= body.find(LIMIT.title.en) < body.find(answer.family.title.en)
    share = [b for b in buttons(replies) if b["action_id"] == ids.SHARE]
    assert share == []  # share=False here
    shared = answer_replies([match(LIMIT)], KB, "en", paste_hash="h", families=[answer], share=True)
    codes = [b["value"] for b in buttons(shared) if b["action_id"] == ids.SHARE]
    assert len(codes) == 1
    assert LIMIT.code in codes[0]
    assert CODE not in codes[0]  # sharing re-renders entries; the family is not one


def test_user_text_is_never_live_markup() -> None:
    answer = family_answer(CODE, HOSTILE)
    assert answer.message is not None
    assert "<!channel>" in answer.message
    replies = answer_replies([], KB, "en", paste_hash="h", families=[answer])
    check_all(replies)
    mrkdwn = texts(replies, mrkdwn_only=True)
    assert "<!channel>" not in mrkdwn
    assert "<@U024BE7LH>" not in mrkdwn
    assert "<https://evil.example" not in mrkdwn
    assert "&lt;!channel&gt;" in mrkdwn
    assert unescaped_controls(mrkdwn).count("<") == 0
    assert "<" not in replies[0].text
    said = next(b for r in replies for b in r.blocks if b["block_id"].startswith("family_said"))
    quoted = said["text"]["text"].split("`", 1)[1]
    assert quoted.count("`") == 1  # one inline span: a backtick in the paste cannot close it


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paste=st.text(max_size=5000), code=st.from_regex(r"[A-Za-z][A-Za-z0-9]{3,99}", fullmatch=True)
)
def test_any_paste_stays_within_slack_limits(paste: str, code: str) -> None:
    answers = family_answers([code], f"{code}: {paste}")
    for lang in LANGS:
        replies = answer_replies([], KB, lang, paste_hash="h", families=answers)
        check_all(replies)
        assert unescaped_controls(texts(replies, mrkdwn_only=True)).count("<") == 0


def test_several_unknown_codes_each_get_an_answer_within_limits() -> None:
    codes = ["UserErrorMadeUpA", "CloudMadeUpB", "SalMadeUpC"]
    answers = family_answers(codes, " ".join(codes))
    replies = answer_replies([match(LIMIT)], KB, "zh-TW", paste_hash="h", families=answers)
    check_all(replies)
    body = texts(replies)
    assert all(code in body for code in codes)
    assert sum(1 for r in replies for b in r.blocks if b["type"] == "divider") == len(codes)


# --- who gets it ------------------------------------------------------------------------------


class Client:
    """Records calls; answers like Slack."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(**kw: Any) -> dict[str, Any]:
            self.calls.append((name, kw))
            return {"ok": True, "user": {"locale": "en-US"}, "ts": "9.9", "messages": []}

        return call


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


@pytest.fixture
def deps(store: Store) -> Deps:
    return Deps(settings=Settings(), kb=KB, store=store, metrics=Metrics(), locale=LocaleCache())


@pytest.fixture
def unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    """The matcher's verdict on any paste: no known error, one unknown code."""
    for module in (commands, mentions, messages):
        monkeypatch.setattr(module, "analyse_paste", lambda *_a: analysis(unknown=[CODE]))


def stored(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(unmatched_pastes)))


@pytest.mark.usefixtures("unknown")
def test_command_answers_with_the_family_and_records_the_code(deps: Deps, store: Store) -> None:
    replies, kind = commands.command_replies(deps, Client(), PASTE, "U1", channel="C7")  # type: ignore[arg-type]
    assert kind == "family"
    assert "The vault said no" in texts(replies)
    (row,) = stored(store)
    assert (row.source, row.unknown_codes) == ("command", CODE)


@pytest.mark.usefixtures("unknown")
def test_mention_answers_with_the_family(deps: Deps) -> None:
    client = Client()
    event = {"type": "app_mention", "channel": "C1", "user": "U1", "ts": "2.1", "text": PASTE}
    assert mentions.handle_mention(deps, event, {"event_id": "EvM"}, client) == 1  # type: ignore[arg-type]
    (posted,) = [kw for name, kw in client.calls if name == "chat_postMessage"]
    assert CODE in posted["text"]
    assert posted["thread_ts"] == "2.1"


@pytest.mark.usefixtures("unknown")
def test_unasked_channel_paste_is_silent_but_recorded(deps: Deps, store: Store) -> None:
    client = Client()
    event = {"type": "message", "channel": "C5", "user": "U1", "ts": "3.1", "text": PASTE}
    assert messages.handle_message(deps, event, {"event_id": "EvC"}, client, "UBOT") == 0  # type: ignore[arg-type]
    assert [name for name, _ in client.calls if name.startswith("chat_")] == []
    (row,) = stored(store)
    assert (row.source, row.channel, row.unknown_codes) == ("channel", "C5", CODE)


def test_known_match_in_a_channel_is_answered_without_the_family(
    deps: Deps, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = analysis(matches=[match(LIMIT)], unknown=[CODE])
    monkeypatch.setattr(messages, "analyse_paste", lambda *_a: both)
    client = Client()
    event = {"type": "message", "channel": "C6", "user": "U1", "ts": "4.1", "text": PASTE}
    assert messages.handle_message(deps, event, {"event_id": "EvK"}, client, "UBOT") >= 1  # type: ignore[arg-type]
    posted = " ".join(str(kw) for name, kw in client.calls if name == "chat_postMessage")
    assert LIMIT.code in posted
    assert "The vault said no" not in posted
    assert [r.unknown_codes for r in stored(store)] == [CODE]


def test_a_secret_looking_code_is_not_recorded(
    deps: Deps, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "UserError" + "a1" * 20  # long letters-and-digits: redaction calls it a token
    monkeypatch.setattr(
        commands, "analyse_paste", lambda *_a: analysis(unknown=[token, CODE, "x y"])
    )
    commands.command_replies(deps, Client(), "anything", "U1", channel="C7")  # type: ignore[arg-type]
    (row,) = stored(store)
    assert row.unknown_codes == CODE


# --- the terminal ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_diagnose_renders_the_family_after_known_errors(lang: Lang) -> None:
    answer = family_answer(CODE, PASTE)
    alone = render_analysis(analysis(unknown=[CODE]), lang=lang, kb=KB, families=[answer])
    assert f"{CODE} - {answer.family.title.get(lang)}" in alone
    assert '"The vault said no"' in alone
    assert answer.search_url(lang) in alone
    both = render_analysis(
        analysis(matches=[match(LIMIT)], unknown=[CODE]), lang=lang, kb=KB, families=[answer]
    )
    assert 0 <= both.find(LIMIT.title.get(lang)) < both.find(answer.family.title.get(lang))


def test_diagnose_strips_terminal_escapes_from_the_paste() -> None:
    answer = family_answer(CODE, f"{CODE}\nMessage: \x1b]0;owned\x07 \x1b[2Jcleared")
    out = render_analysis(analysis(unknown=[CODE]), lang="en", kb=KB, families=[answer])
    assert "\x1b" not in out
    assert "\x07" not in out


def test_diagnose_command_prints_the_family_with_the_real_matcher() -> None:
    root = Path(__file__).resolve().parent.parent
    paste = f"({CODE}) The vault refused the made-up request"
    out = subprocess.run(
        [sys.executable, "-m", "bot", "diagnose", paste],
        capture_output=True, text=True, cwd=root, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"{CODE} - " in out.stdout
    assert '"The vault refused the made-up request"' in out.stdout
    assert f"terms={CODE}" in out.stdout
