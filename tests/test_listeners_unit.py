"""Listener logic with plain fakes: a recording client, a real store on SQLite, the real KB."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.listeners import Deps, guard
from bot.listeners.answer_buttons import feedback_vote, share_entries
from bot.listeners.commands import command_replies, parse_command
from bot.listeners.mentions import handle_mention, strip_mentions
from bot.listeners.messages import handle_message
from bot.locale import LocaleCache, lang_of_locale
from bot.metrics import Metrics
from bot.replies import paste_hash
from bot.settings import Settings
from knowledge import load_kb
from store import Store, open_store

CODE = "UserErrorGuestAgentStatusUnavailable"
PASTE = f"Backup failed with {CODE} on vm1"
KB = load_kb()


class FakeClient:
    """Records calls; answers like Slack; can be told to fail a method."""

    def __init__(self, locales: dict[str, str] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.locales = locales or {}
        self.failing: set[str] = set()
        self.thread: list[dict[str, Any]] = []

    def _answer(self, method: str, kwargs: dict[str, Any], data: dict[str, Any]) -> Any:
        self.calls.append((method, kwargs))
        if method in self.failing:
            resp = SlackResponse(
                client=self,
                http_verb="POST",
                api_url=method,
                req_args={},
                data={"ok": False, "error": "ratelimited"},
                headers={},
                status_code=429,
            )
            raise SlackApiError("failed", resp)
        return {"ok": True, **data}

    def chat_postMessage(self, **kwargs: Any) -> Any:  # noqa: N802 - Slack's name
        return self._answer("chat.postMessage", kwargs, {"ts": "9.9"})

    def users_info(self, **kwargs: Any) -> Any:
        locale = self.locales.get(kwargs["user"], "en-US")
        return self._answer("users.info", kwargs, {"user": {"locale": locale}})

    def conversations_replies(self, **kwargs: Any) -> Any:
        return self._answer("conversations.replies", kwargs, {"messages": self.thread})

    def posted(self) -> list[dict[str, Any]]:
        return [kw for method, kw in self.calls if method == "chat.postMessage"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


def make_deps(store: Store, **settings: Any) -> Deps:
    return Deps(
        settings=Settings(**settings),
        kb=KB,
        store=store,
        metrics=Metrics(),
        locale=LocaleCache(),
    )


def msg(text: str = PASTE, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel": "C1", "user": "U1", "ts": "1.1", "text": text, **extra}


def test_confident_paste_is_answered_once_in_a_thread(store: Store) -> None:
    deps, client = make_deps(store), FakeClient()
    assert handle_message(deps, msg(), {"event_id": "Ev1"}, client, "UBOT") >= 1
    posted = client.posted()
    assert posted[0]["channel"] == "C1"
    assert posted[0]["thread_ts"] == "1.1"
    assert CODE in posted[0]["text"]
    # Slack's retry (same event id) and the same error again in the thread: both silent.
    assert handle_message(deps, msg(), {"event_id": "Ev1"}, client, "UBOT") == 0
    again = msg(ts="1.2", thread_ts="1.1")
    assert handle_message(deps, again, {"event_id": "Ev2"}, client, "UBOT") == 0
    assert len(client.posted()) == len(posted)


def test_paste_inside_a_thread_is_answered_in_that_thread(store: Store) -> None:
    deps, client = make_deps(store), FakeClient()
    handle_message(deps, msg(ts="5.5", thread_ts="5.0"), {"event_id": "Ev3"}, client, "UBOT")
    assert client.posted()[0]["thread_ts"] == "5.0"


@pytest.mark.parametrize(
    "event",
    [
        msg(subtype="message_changed"),
        msg(subtype="message_deleted"),
        msg(subtype="channel_join"),
        msg(bot_id="B9"),
        msg(user="UBOT"),
        msg(text="lunch anyone?"),
        msg(text=f"<@UBOT> {PASTE}"),
        msg(channel_type="im"),
    ],
)
def test_ignored_messages_get_no_reply(store: Store, event: dict[str, Any]) -> None:
    deps, client = make_deps(store), FakeClient()
    assert handle_message(deps, event, {"event_id": "EvX"}, client, "UBOT") == 0
    assert client.calls == []


def test_channel_allow_list(store: Store) -> None:
    deps, client = make_deps(store, BACKUP_FIX_CHANNELS="C7"), FakeClient()
    assert handle_message(deps, msg(), {"event_id": "Ev4"}, client, "UBOT") == 0
    assert handle_message(deps, msg(channel="C7"), {"event_id": "Ev5"}, client, "UBOT") >= 1


def test_failed_post_is_counted_not_raised(store: Store) -> None:
    deps, client = make_deps(store), FakeClient()
    client.failing.add("chat.postMessage")
    assert handle_message(deps, msg(), {"event_id": "Ev6"}, client, "UBOT") == 0
    assert (
        b'backup_fix_slack_call_errors_total{method="chat.postMessage"} 1.0'
        in deps.metrics.render()
    )


def test_bare_mention_in_a_thread_matches_the_parent(store: Store) -> None:
    deps, client = make_deps(store), FakeClient()
    client.thread = [{"ts": "7.0", "text": PASTE}]
    event = {
        "type": "app_mention",
        "channel": "C1",
        "user": "U1",
        "ts": "7.5",
        "thread_ts": "7.0",
        "text": "<@UBOT>",
    }
    assert handle_mention(deps, event, {"event_id": "Ev7"}, client) >= 1
    assert client.calls[0][0] == "conversations.replies"
    assert CODE in client.posted()[0]["text"]
    assert client.posted()[0]["thread_ts"] == "7.0"


def test_mention_with_text_answers_in_a_thread(store: Store) -> None:
    deps, client = make_deps(store), FakeClient()
    event = {
        "type": "app_mention",
        "channel": "C1",
        "user": "U1",
        "ts": "8.0",
        "text": f"<@UBOT> {PASTE}",
    }
    handle_mention(deps, event, {"event_id": "Ev8"}, client)
    assert client.posted()[0]["thread_ts"] == "8.0"
    assert strip_mentions("<@UBOT|bf> hi <@W1>") == "hi"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("", None, False)),
        ("--lang zh-TW UserErrorX", ("UserErrorX", "zh-TW", False)),
        ("--lang=en list", ("list", "en", False)),
        ("--lang fr list", ("list", None, True)),
        ("  help ", ("help", None, False)),
    ],
)
def test_parse_command(text: str, expected: tuple[str, str | None, bool]) -> None:
    assert parse_command(text) == expected


def test_command_kinds(store: Store) -> None:
    deps, client = make_deps(store), FakeClient({"U2": "zh-TW"})
    assert command_replies(deps, client, "", "U1")[1] == "help"
    assert command_replies(deps, client, "help", "U1")[1] == "help"
    assert command_replies(deps, client, "list", "U1")[1] == "list"
    assert command_replies(deps, client, "nothing to see", "U1")[1] == "no_match"
    replies, kind = command_replies(deps, client, PASTE, "U1")
    assert kind == "answer"
    actions = [
        e for r in replies for b in r.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert "backup_fix.share" in {e["action_id"] for e in actions}


def test_lang_override_and_locale(store: Store) -> None:
    deps, client = make_deps(store), FakeClient({"U2": "zh-TW"})
    zh_help = command_replies(deps, client, "", "U2")[0][0].text
    en_help = command_replies(deps, client, "--lang en", "U2")[0][0].text
    assert zh_help != en_help
    # The locale is looked up once per user, then cached.
    command_replies(deps, client, "", "U2")
    assert [m for m, _ in client.calls].count("users.info") == 1
    assert lang_of_locale("zh-CN") == "zh-TW"
    assert lang_of_locale("en-GB") == "en"
    assert lang_of_locale(None) is None


def test_share_value_is_revalidated(store: Store) -> None:
    deps = make_deps(store)
    ok = share_entries(deps, json.dumps({"codes": [CODE], "lang": "zh-TW"}))
    assert ok is not None
    assert ok[0][0].code == CODE
    assert ok[1] == "zh-TW"
    for bad in [
        "",
        "not json",
        '{"codes":["Nope1"],"lang":"en"}',
        '{"codes":[1],"lang":"en"}',
        f'{{"codes":["{CODE}"],"lang":"fr"}}',
        '{"codes":[],"lang":"en"}',
        "[1]",
    ]:
        assert share_entries(deps, bad) is None


def test_feedback_value_is_revalidated(store: Store) -> None:
    deps = make_deps(store)
    digest = paste_hash(PASTE)
    assert feedback_vote(deps, json.dumps({"code": CODE, "hash": digest})) == (CODE, digest)
    assert feedback_vote(deps, json.dumps({"code": "Nope1", "hash": digest})) is None
    assert feedback_vote(deps, json.dumps({"code": CODE, "hash": "<script>"})) is None
    assert len(digest) == 64
    assert PASTE not in digest


def test_guard_logs_a_reference_and_tells_the_user(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    deps, told = make_deps(store), []
    log = logging.getLogger("test.guard")
    with caplog.at_level(logging.ERROR), guard(deps, "unit", log, told.append):
        raise RuntimeError("secret detail")
    assert len(told) == 1
    assert len(told[0]) == 8
    assert caplog.records[0].ref == told[0]  # type: ignore[attr-defined]
    assert b'backup_fix_listener_errors_total{listener="unit"} 1.0' in deps.metrics.render()
