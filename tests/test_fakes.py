"""The fakes behave like Slack for the real slack_sdk clients: acceptance failures are the bot's."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.builtin.client import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

from tests.fakes import botproc, signing
from tests.fakes.slack_api import FakeSlack, buttons
from tests.fakes.socket_server import FakeSocketMode


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url)


def test_auth_test_and_post_message_are_recorded_with_json_blocks(fake: FakeSlack) -> None:
    web = client(fake)
    assert web.auth_test()["user_id"] == "UBOT"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    sent = web.chat_postMessage(channel="C1", text="hi", blocks=blocks, thread_ts="1.2")
    assert sent["channel"] == "C1"
    assert sent["ts"]
    call = fake.wait_for("chat.postMessage")[0]
    assert call.blocks == blocks
    assert call.params["thread_ts"] == "1.2"
    assert call.token == "xoxb-test"
    assert "hi" in call.all_text()


def test_form_encoded_blocks_are_parsed(fake: FakeSlack) -> None:
    web = client(fake)
    web.api_call("chat.postEphemeral", data={"channel": "C1", "user": "U1", "blocks": "[]"})
    assert fake.wait_for("chat.postEphemeral")[0].params["blocks"] == []


def test_users_info_returns_the_configured_locale_only_when_asked(fake: FakeSlack) -> None:
    fake.locales["UZH"] = "zh-TW"
    web = client(fake)
    assert web.users_info(user="UZH", include_locale=True)["user"]["locale"] == "zh-TW"
    assert web.users_info(user="UEN", include_locale=True)["user"]["locale"] == "en-US"
    assert "locale" not in web.users_info(user="UZH")["user"]


def test_missing_token_is_not_authed(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError, match="not_authed"):
        WebClient(base_url=fake.api_url).chat_postMessage(channel="C1", text="x")


def test_429_once_then_the_retry_handler_gets_through(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", 1, status=429, retry_after=1)
    web = client(fake)
    web.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    web.chat_postMessage(channel="C1", text="x")
    tried = fake.calls("chat.postMessage", include_failed=True)
    assert [c.status for c in tried] == [429, 200]
    assert len(fake.calls("chat.postMessage")) == 1


def test_500_is_reported_as_an_error(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", 2, status=500)
    with pytest.raises(SlackApiError):
        client(fake).chat_postMessage(channel="C1", text="x")
    fake.clear_failures()
    client(fake).chat_postMessage(channel="C1", text="x")


def test_response_url_is_recorded(fake: FakeSlack) -> None:
    url = fake.response_url("abc")
    WebhookClient(url).send(text="only you", response_type="ephemeral")
    call = fake.wait_for("response_url")[0]
    assert call.path == "/response/abc"
    assert call.params["response_type"] == "ephemeral"


def test_conversations_replies_serves_the_configured_thread(fake: FakeSlack) -> None:
    fake.set_thread("C1", [{"ts": "10.1", "text": "parent"}, {"ts": "10.2", "text": "child"}])
    got = client(fake).conversations_replies(channel="C1", ts="10.1")
    assert [m["text"] for m in got["messages"]] == ["parent", "child"]
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client(fake).conversations_replies(channel="C1", ts="99.9")


def test_wait_for_times_out_naming_what_it_saw(fake: FakeSlack) -> None:
    client(fake).auth_test()
    with pytest.raises(TimeoutError, match=r"auth\.test"):
        fake.wait_for("chat.postMessage", timeout=0.2)


def test_signatures_verify_with_slacks_own_verifier() -> None:
    body = b'{"type":"event_callback"}'
    headers = signing.signed_headers("s3cret", body, content_type="application/json")
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = signing.signed_headers(
        "s3cret", body, content_type="application/json", timestamp=int(time.time()) - 600
    )
    assert not verifier.is_valid_request(body, stale)


def test_command_and_interaction_bodies_have_slacks_shape() -> None:
    form = signing.command_form("list", response_url="http://x/response/1")
    assert form["command"] == "/backup-fix"
    action = {"action_id": "backup_fix.share", "value": "v"}
    payload = signing.block_action(action, response_url="http://x/response/2")
    assert payload["actions"][0]["value"] == "v"
    assert json.loads(json.dumps(payload))["container"]["channel_id"] == "C1"
    body = parse_qs("payload=" + json.dumps(payload))
    assert "payload" in body


def test_buttons_are_found_in_actions_and_accessories() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "actions", "elements": [{"type": "button", "action_id": "a"}]},
        {"type": "section", "accessory": {"type": "button", "action_id": "b"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x"}},
    ]
    assert [b["action_id"] for b in buttons(blocks)] == ["a", "b"]


def test_socket_mode_client_connects_gets_envelopes_and_acks(fake: FakeSlack) -> None:
    with FakeSocketMode() as server:
        fake.socket_url = server.url
        got: list[SocketModeRequest] = []
        seen = threading.Event()

        def listener(sm: BaseSocketModeClient, req: SocketModeRequest) -> None:
            sm.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            got.append(req)
            seen.set()

        sm = SocketModeClient(app_token="xapp-test", web_client=client(fake))
        sm.socket_mode_request_listeners.append(listener)
        sm.connect()
        try:
            server.wait_connected()
            event = signing.event_envelope(signing.message("hello"))
            envelope_id = server.push("events_api", event)
            assert server.wait_ack(envelope_id)["envelope_id"] == envelope_id
            assert seen.wait(5)
            assert got[0].payload["event"]["text"] == "hello"
        finally:
            sm.close()
        opened = fake.wait_for("apps.connections.open")[0]
        assert opened.token == "xapp-test"


def test_bot_environment_drops_inherited_slack_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-leak")
    env = botproc.environment({"SLACK_BOT_TOKEN": "xoxb-test"})
    assert "SLACK_APP_TOKEN" not in env
    assert env["SLACK_BOT_TOKEN"] == "xoxb-test"
