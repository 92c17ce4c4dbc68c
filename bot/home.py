"""The App Home tab per user: gathered from the ledger, drawn by ``bot.blocks.home``, published
with ``views.publish``; redrawn for the approvers and the requester when a request changes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from actions.approvals import ApprovalRequest, Status, home_tag
from bot.blocks.home import MAX_INCIDENTS, HomeIncident, Waiting, home_view
from bot.blocks.text import Block
from bot.listeners import Deps
from bot.replies import slack_call
from bot.vm_choice import reader_lang

log = logging.getLogger(__name__)

OPEN = (Status.PENDING, Status.APPROVED, Status.RUNNING)
RECENT = timedelta(days=7)  # how far back the Home tab lists incidents


def recent_incidents_for_home(deps: Deps, client: Any, user: str) -> list[HomeIncident] | None:
    """Incidents of the last ``RECENT`` days posted to channels ``user`` is in, newest first;
    None when Slack could not say which channels those are (then none are shown: never those
    of channels the reader may not see)."""
    from incidents.state import IncidentState  # the incident tables: only for the Home tab
    from store.tables import incidents

    t = incidents.c
    posted = (
        t.message_ts.is_not(None),
        t.channel.is_not(None),
        t.last_failure >= deps.clock() - RECENT,
    )
    state = IncidentState(deps.store.engine)
    posted_to = state.channels(*posted)
    if not posted_to:
        return []  # nothing recent anywhere: no need to ask Slack
    mine = deps.channels.channels(client, user)
    if mine is None:
        return None
    shown = sorted(posted_to & mine)
    if not shown:
        return []
    found = state.select(
        *posted, t.channel.in_(shown), order=t.last_failure.desc(), limit=MAX_INCIDENTS
    )
    return [
        HomeIncident(
            title=f"{'resolved' if i.status == 'resolved' else 'open'}: {i.item} {i.code}".strip(),
            channel=i.channel or "",
            at=i.last_failure,
        )
        for i in found
    ]


def open_requests(deps: Deps) -> list[ApprovalRequest]:
    """Every request not settled yet (pending, approved or running), oldest first."""
    if deps.ledger is None:
        return []
    found = deps.ledger.with_status(*OPEN)
    return sorted(found, key=lambda r: r.created_at)


def publish_home(
    deps: Deps,
    client: Any,
    user: str,
    *,
    notice: str = "",
    query: str = "",
    results: Sequence[Block] = (),
    requests: Sequence[ApprovalRequest] | None = None,
) -> bool:
    """Draw and publish ``user``'s Home tab; True when Slack took it."""
    lang = reader_lang(deps, client, user)
    found = list(requests) if requests is not None else open_requests(deps)
    view = home_view(
        lang=lang,
        waiting=waiting_for(deps, client, user, found),
        own=[r for r in found if r.requester == user],
        incidents=recent_incidents_for_home(deps, client, user),
        notice=notice,
        query=query,
        results=results,
    )
    call = slack_call(deps, "views.publish", lambda: client.views_publish(user_id=user, view=view))
    if call is not None:
        deps.metrics.replies.labels("home").inc()
    return call is not None


def waiting_for(
    deps: Deps, client: Any, user: str, requests: Sequence[ApprovalRequest]
) -> list[Waiting]:
    """The pending requests ``user`` may approve (never their own), with their Home tags."""
    key = deps.ledger.key if deps.ledger is not None else None
    now = deps.clock()
    pending = [
        r
        for r in requests
        if r.status == Status.PENDING and not r.expired(now) and r.requester != user
    ]
    if not pending or key is None or deps.approvers is None:
        return []
    if not deps.approvers.is_approver(client, user):
        return []
    return [Waiting(r, home_tag(r, user, key=key)) for r in pending]


def refresh_homes(deps: Deps, client: Any, request: ApprovalRequest) -> None:
    """Redraw the Home tabs that show ``request``: every approver's and the requester's (in the
    background when there is one: a user-group lookup may wait on Slack)."""

    def work() -> None:
        users = deps.approvers.known() if deps.approvers is not None else []
        found = open_requests(deps)
        for user in dict.fromkeys([request.requester, *users]):
            publish_home(deps, client, user, requests=found)

    if deps.background is None or not deps.background.try_run("home", work):
        try:
            work()
        except Exception:  # a stale Home tab is redrawn when its user opens it again
            log.exception("could not refresh Home tabs", extra={"request": request.id})
