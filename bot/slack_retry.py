"""Retry Slack's 429s for as long as Slack asks, within a time budget (not a fixed count).

slack_sdk's handler gives up after a fixed number of retries; a rate limit that lasts a minute
with ``Retry-After: 1`` would then lose the reply. This one keeps honouring ``Retry-After`` until
the budget is spent.
"""

from __future__ import annotations

import time

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

BUDGET_SECONDS = 180.0
_STARTED = "backup_fix.started"


class BudgetedRateLimitHandler(RateLimitErrorRetryHandler):
    """Retries a 429 after its Retry-After until ``budget`` seconds have passed since the first."""

    def __init__(self, budget: float = BUDGET_SECONDS) -> None:
        super().__init__(max_retry_count=10_000)  # the budget, not the count, ends the retries
        self.budget = budget

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        values = state.custom_values if state.custom_values is not None else {}
        state.custom_values = values
        started = values.setdefault(_STARTED, time.monotonic())
        return bool(time.monotonic() - started < self.budget)
