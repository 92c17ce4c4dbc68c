"""Slack 429s are retried for as long as the budget allows, then surface as an error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_retry import BudgetedRateLimitHandler
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def client(slack: FakeSlack, budget: float) -> WebClient:
    return WebClient(
        token="xoxb-test",
        base_url=slack.api_url,
        retry_handlers=[BudgetedRateLimitHandler(budget=budget)],
    )


def test_more_429s_than_a_fixed_count_still_end_in_a_reply(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", times=5, retry_after=0)
    response = client(slack, budget=60).chat_postMessage(channel="C1", text="hi")
    assert response["ok"] is True
    assert len(slack.calls("chat.postMessage", include_failed=True)) == 6
    assert len(slack.calls("chat.postMessage")) == 1


def test_the_budget_ends_the_retries(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", times=50, retry_after=0)
    with pytest.raises(SlackApiError) as err:
        client(slack, budget=0.5).chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 429
    assert len(slack.calls("chat.postMessage", include_failed=True)) < 50


def test_other_errors_are_not_retried(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", times=1, status=500)
    with pytest.raises(SlackApiError):
        client(slack, budget=60).chat_postMessage(channel="C1", text="hi")
    assert len(slack.calls("chat.postMessage", include_failed=True)) == 1
