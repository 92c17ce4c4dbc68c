"""Two replicas in HTTP mode behind a round-robin load balancer, sharing one PostgreSQL: Slack's
retries land on the other replica and are not answered twice; approvals clicked on both replicas
run once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actions.approvals import Status
from tests.acceptance.actions_helpers import APPROVE, Driver, mutations, settle
from tests.acceptance.conftest_actions import (
    APPROVER1,
    APPROVER2,
    CHANNEL,
    GROUP_MEMBER,
    SECRET,
    World,
    ask,
    open_thread,
    pg_url_fixture,  # noqa: F401 (fixture)
    request_of,
    wait_status,
    world_fixture,  # noqa: F401 (fixture)
)
from tests.fakes import signing
from tests.fakes.lb import RoundRobinProxy
from tests.fakes.signing import SignedClient

KNOWN = "UserErrorGuestAgentStatusUnavailable"


@pytest.fixture(name="pair")
def pair_fixture(world: World, pg_url: str) -> Iterator[tuple[Driver, Driver, RoundRobinProxy]]:
    """Two replicas on one PostgreSQL schema, and the balancer in front of them."""
    world.populate()
    one, two = world.start_bot(pg_url), world.start_bot(pg_url)
    with RoundRobinProxy([one.bot.url, two.bot.url]) as lb:
        yield one, two, lb


def via(lb: RoundRobinProxy, driver: Driver) -> Driver:
    """A driver that reaches the replicas through the balancer (Slack's view)."""
    through = Driver(driver.fake, driver.bot, SECRET)
    through.client = SignedClient(lb.url, SECRET)
    return through


def answers(driver: Driver, channel: str, root: str) -> int:
    """How many answers to the paste the bot posted in that thread (the VM menu aside)."""
    return len([m for m in driver.thread(channel, root) if m.text.startswith(KNOWN)])


def test_retries_reaching_the_other_replica_are_not_answered_twice(
    pair: tuple[Driver, Driver, RoundRobinProxy],
) -> None:
    one, two, lb = pair
    slack = via(lb, one)
    roots = []
    for n in range(6):
        envelope = signing.event_envelope(signing.message(f"{KNOWN} #{n}", channel="CRETRY"))
        # The first delivery and Slack's retries go through the balancer: in turn to each replica.
        for retry in (None, 1, 2):
            assert slack.client.envelope(envelope, retry=retry).status == 200
        roots.append(str(envelope["event"]["ts"]))
    for root in roots:
        slack.wait_thread("CRETRY", root, lambda m: KNOWN in m.all_text(), what="the answer")
    settle(1.5)
    assert [answers(slack, "CRETRY", r) for r in roots] == [1] * len(roots), [
        m.all_text()[:200] for m in slack.thread("CRETRY", roots[0])
    ]
    assert lb.served[one.bot.url] >= 5, lb.served
    assert lb.served[two.bot.url] >= 5, lb.served


def test_approvals_clicked_on_both_replicas_run_once(
    world: World, pg_url: str, pair: tuple[Driver, Driver, RoundRobinProxy]
) -> None:
    one, two, lb = pair
    slack = via(lb, one)
    root = open_thread(slack, "BackUpOperationFailed", vm_id=world.ids.vm)
    card, _ = ask(slack, root, "trigger_backup")
    req = request_of(world, pg_url, card)
    approve = card.element(APPROVE)
    assert approve is not None
    before = dict(lb.served)
    clicks = [
        slack.click(card, approve, user=user)
        for user in (APPROVER1, APPROVER2, GROUP_MEMBER, APPROVER1, APPROVER2, GROUP_MEMBER)
    ]
    assert [c.status for c in clicks] == [200] * 6
    done = wait_status(world, pg_url, req.id, Status.SUCCEEDED, Status.FAILED)
    assert done.status == Status.SUCCEEDED, done.outcome
    settle(2)
    backups = [m for m in mutations(world.arm) if m.startswith("POST ") and m.endswith("/backup")]
    assert len(backups) == 1, mutations(world.arm, succeeded_only=False)
    events = [r.event for r in world.ledger(pg_url).records() if r.request_id == req.id]
    assert events.count("approved") == 1, events
    assert events.count("executing") == 1, events
    assert events.count("refused") == 5, events
    # Both replicas took clicks; the job id reached the thread once.
    assert all(lb.served[u] > before.get(u, 0) for u in (one.bot.url, two.bot.url)), lb.served
    job = str(done.outcome.get("job_id") or "")
    slack.wait_thread(CHANNEL, root, lambda m: bool(job) and job in m.all_text(), what="outcome")
    outcomes = [m for m in slack.thread(CHANNEL, root) if "Azure job:" in m.all_text()]
    assert len(outcomes) == 1, [m.all_text() for m in outcomes]
