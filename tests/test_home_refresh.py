"""The Home tab is redrawn when a request it shows ends: succeeded, failed, or interrupted and
settled by another replica; for the requester and the known approvers, like a decision."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from actions.approvals import Status
from actions.errors import AzureConflict
from bot.execution import execute
from bot.listeners import Deps
from bot.reconcile import reconcile
from store import Store
from tests.fakes.backup_api import FakeBackupApi
from tests.fakes.slack_api import strings
from tests.test_actions_listeners import APPROVER, REQUESTER, FakeClient, make_deps, requested
from tests.test_actions_listeners import api as api
from tests.test_actions_listeners import store as store


class HomeClient(FakeClient):
    """The recording client, also taking views.publish."""

    def views_publish(self, **kw: Any) -> Any:
        return self._ok("views.publish", kw)

    def homes(self, user: str) -> list[dict[str, Any]]:
        """The views published for ``user``, oldest first."""
        return [kw["view"] for kw in self.of("views.publish") if kw["user_id"] == user]


@pytest.fixture
def deps(store: Store, api: FakeBackupApi) -> Iterator[Deps]:
    d = make_deps(store, api)
    yield d
    assert d.background is not None
    d.background.shutdown()


def approved(deps: Deps, client: HomeClient) -> str:
    """A request approved (its Home tabs drawn then); the request id."""
    raw = requested(deps, client)
    assert deps.ledger is not None
    request_id = str(json.loads(raw)["id"])
    assert deps.ledger.transition(
        request_id, Status.PENDING, Status.APPROVED, decided_at=deps.clock()
    )
    return request_id


def settle(deps: Deps) -> None:
    assert deps.background is not None
    assert deps.background.idle(timeout=20)


def open_lines(view: dict[str, Any]) -> str:
    """The text of the "your open requests" part of a Home view."""
    blocks = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("own")]
    return "\n".join(strings(blocks))


def drawn(client: HomeClient) -> tuple[int, int]:
    """How many Home views the requester and the approver were sent so far."""
    return len(client.homes(REQUESTER)), len(client.homes(APPROVER))


def redrawn_after_the_end(
    deps: Deps, client: HomeClient, before: tuple[int, int]
) -> dict[str, Any]:
    settle(deps)
    mine, theirs = drawn(client)
    assert mine > before[0], "the requester's Home tab was not redrawn when the request ended"
    assert theirs > before[1], "the approver's Home tab was not redrawn when the request ended"
    return client.homes(REQUESTER)[-1]


def test_a_finished_request_leaves_the_requesters_home(deps: Deps) -> None:
    client = HomeClient()
    request_id = approved(deps, client)
    settle(deps)
    before = drawn(client)
    execute(deps, client, request_id)
    last = redrawn_after_the_end(deps, client, before)
    assert deps.ledger is not None
    assert deps.ledger.get(request_id).status == Status.SUCCEEDED  # type: ignore[union-attr]
    assert "no open requests" in open_lines(last)


def test_a_failed_request_leaves_the_requesters_home(deps: Deps, api: FakeBackupApi) -> None:
    client = HomeClient()
    request_id = approved(deps, client)
    settle(deps)
    before = drawn(client)
    api.fail("trigger_backup", AzureConflict("another backup is running", status=409))
    execute(deps, client, request_id)
    last = redrawn_after_the_end(deps, client, before)
    assert deps.ledger is not None
    assert deps.ledger.get(request_id).status == Status.FAILED  # type: ignore[union-attr]
    assert "no open requests" in open_lines(last)


def test_an_interrupted_request_leaves_the_requesters_home(deps: Deps) -> None:
    client = HomeClient()
    request_id = approved(deps, client)
    assert deps.ledger is not None
    then = deps.clock() - timedelta(minutes=5)
    assert deps.ledger.start_running(request_id, "dead-replica", then)
    settle(deps)
    before = drawn(client)
    assert reconcile(deps, client) == 1
    last = redrawn_after_the_end(deps, client, before)
    assert deps.ledger.get(request_id).status == Status.FAILED  # type: ignore[union-attr]
    assert "no open requests" in open_lines(last)
