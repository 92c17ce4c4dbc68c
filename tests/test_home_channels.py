"""The Home tab lists the recent incidents of the reader's channels only: ``users.conversations``
(public and private, paged, cached per user a few minutes, bounded); when Slack cannot say, no
incidents and one line saying so, never every channel's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.blocks.home import home_view
from bot.home import recent_incidents_for_home
from bot.listeners import Deps
from bot.locale import LocaleCache
from bot.metrics import Metrics
from bot.settings import Settings
from bot.user_channels import UserChannels
from incidents.model import JobOutcome
from incidents.state import IncidentState
from knowledge import load_kb
from store import Store, open_store
from tests.fakes.slack_api import strings

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
VAULT = (
    "/subscriptions/6f1c2e7a-0000-4000-8000-0000000000a1/resourceGroups/rg-backup/providers/"
    "Microsoft.RecoveryServices/vaults/vault-prod"
)


class Conversations:
    """users.conversations over ``member`` (user -> channel ids), ``page`` ids a page."""

    def __init__(self, member: dict[str, list[str]], *, page: int = 2) -> None:
        self.member, self.page = member, page
        self.calls: list[dict[str, Any]] = []
        self.down = False

    def users_conversations(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(kw)
        if self.down:
            raise SlackApiError("ratelimited", {"ok": False, "error": "ratelimited"})
        start = int(kw.get("cursor") or 0)
        mine = self.member.get(kw["user"], [])
        end = start + min(self.page, kw["limit"])
        more = str(end) if end < len(mine) else ""
        return {
            "ok": True,
            "channels": [{"id": c} for c in mine[start:end]],
            "response_metadata": {"next_cursor": more},
        }


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_users_channels_are_read_page_by_page_public_and_private() -> None:
    slack = Conversations({"U1": ["C1", "C2", "G3", "C4", "C5"]})
    assert UserChannels().channels(slack, "U1") == {"C1", "C2", "G3", "C4", "C5"}
    assert len(slack.calls) == 3
    assert all(c["user"] == "U1" for c in slack.calls)  # the reader's, never the bot's own list
    assert {c["types"] for c in slack.calls} == {"public_channel,private_channel"}
    assert [c["cursor"] for c in slack.calls] == [None, "2", "4"]


def test_the_answer_is_kept_a_few_minutes_per_user() -> None:
    clock = Clock()
    slack = Conversations({"U1": ["C1"], "U2": ["C2"]})
    channels = UserChannels(ttl=300.0, clock=clock)
    assert channels.channels(slack, "U1") == {"C1"}
    slack.member["U1"] = ["C1", "C9"]  # joined a channel
    clock.now = 299.0
    assert channels.channels(slack, "U1") == {"C1"}
    assert channels.channels(slack, "U2") == {"C2"}  # per user
    assert len(slack.calls) == 2
    clock.now = 301.0
    assert channels.channels(slack, "U1") == {"C1", "C9"}


def test_the_lookup_is_bounded_in_pages_and_in_users() -> None:
    slack = Conversations({"U1": [f"C{n}" for n in range(100)]}, page=2)
    assert len(UserChannels(max_pages=3).channels(slack, "U1") or ()) == 6
    assert len(slack.calls) == 3
    clock = Clock()
    slack = Conversations({f"U{n}": [f"C{n}"] for n in range(5)})
    channels = UserChannels(max_users=2, clock=clock)
    for n in range(5):
        channels.channels(slack, f"U{n}")
    asked = len(slack.calls)
    channels.channels(slack, "U4")  # among the last two: cached
    assert len(slack.calls) == asked
    channels.channels(slack, "U0")  # pushed out: asked again
    assert len(slack.calls) == asked + 1


def test_a_failed_lookup_is_none_and_tried_again_soon() -> None:
    clock = Clock()
    slack = Conversations({"U1": ["C1"]})
    slack.down = True
    channels = UserChannels(failure_ttl=30.0, clock=clock)
    assert channels.channels(slack, "U1") is None
    slack.down = False
    clock.now = 31.0
    assert channels.channels(slack, "U1") == {"C1"}


# -- the Home tab's incidents ---------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


def posted(store: Store, item: str, channel: str, *, days_ago: float = 1) -> None:
    """An incident of ``item`` whose root message is in ``channel``."""
    at = NOW - timedelta(days=days_ago)
    failed = JobOutcome(
        source="alert",
        succeeded=False,
        vault_id=VAULT.lower(),
        item_name=item,
        workload="AzureIaasVM",
        operation="Backup",
        at=at,
        job_id=f"{VAULT}/backupJobs/job-{item}",
        error_codes=("UserErrorGuestAgentStatusUnavailable",),
    )
    state = IncidentState(store.engine)
    found = state.record_failure(
        failed, code="UserErrorGuestAgentStatusUnavailable", channel=channel, now=at
    )
    assert found is not None
    state.set_posted(found.incident_id, ts=f"{found.incident_id}.000100", noted=1)


def deps_of(store: Store) -> Deps:
    return Deps(
        settings=Settings(),
        kb=load_kb(),
        store=store,
        metrics=Metrics(),
        locale=LocaleCache(),
        clock=lambda: NOW,
    )


def home_text(incidents: Any) -> tuple[str, list[str]]:
    view = home_view(lang="en", incidents=incidents)
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    return "\n".join(strings(blocks)), [str(b.get("block_id")) for b in blocks]


def test_only_the_incidents_of_the_readers_channels_are_listed(store: Store) -> None:
    posted(store, "vm-ops-01", "COPS")
    posted(store, "vm-fin-01", "CFINANCE")
    posted(store, "vm-ops-old", "COPS", days_ago=30)  # not recent
    deps = deps_of(store)
    slack = Conversations({"UOPS": ["COPS", "CRANDOM"], "UNONE": ["CRANDOM"]})
    found = recent_incidents_for_home(deps, slack, "UOPS")
    assert found is not None
    assert [(i.channel, i.title) for i in found] == [
        ("COPS", "open: vm-ops-01 UserErrorGuestAgentStatusUnavailable")
    ]
    text, _ = home_text(found)
    assert "vm-ops-01" in text
    assert "vm-fin-01" not in text
    assert recent_incidents_for_home(deps, slack, "UNONE") == []


def test_when_slack_cannot_say_no_incident_is_shown_and_one_line_says_why(store: Store) -> None:
    posted(store, "vm-ops-01", "COPS")
    deps = deps_of(store)
    slack = Conversations({"UOPS": ["COPS"]})
    slack.down = True
    found = recent_incidents_for_home(deps, slack, "UOPS")
    assert found is None
    text, block_ids = home_text(found)
    assert "vm-ops-01" not in text
    assert "incidents_unknown" in block_ids
    assert "incident_list" not in block_ids
    zh = home_view(lang="zh-TW", incidents=None)
    assert "頻道" in "\n".join(strings(zh["blocks"]))


def test_without_recent_incidents_slack_is_not_asked(store: Store) -> None:
    posted(store, "vm-ops-old", "COPS", days_ago=30)
    slack = Conversations({"UOPS": ["COPS"]})
    assert recent_incidents_for_home(deps_of(store), slack, "UOPS") == []
    assert slack.calls == []
