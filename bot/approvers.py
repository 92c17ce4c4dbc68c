"""Who may approve: ``BACKUP_FIX_APPROVERS`` users and members of its user groups (cached)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from actions.approvals import Approvers

log = logging.getLogger(__name__)

GROUP_TTL = 300.0  # seconds: group changes show within five minutes
MAX_HOME_USERS = 50  # Home tabs redrawn for approvers per change (views.publish is Tier 4)
_ID = re.compile(r"^[UWS][A-Z0-9]{2,20}$")


def approver_mentions(approvers: Approvers) -> str:
    """The live mentions that make Slack notify the approvers: user groups as ``<!subteam^S…>``,
    users as ``<@U…>``. Built only from configured ids (never user text); '' when none."""
    groups = [f"<!subteam^{g}>" for g in sorted(approvers.groups) if _ID.match(g)]
    users = [f"<@{u}>" for u in sorted(approvers.users) if _ID.match(u)]
    return " ".join(groups + users)


class ApproverDirectory:
    """``is_approver(client, user)`` with ``usergroups.users.list`` answers cached per group for
    ``ttl`` seconds; once the cache is stale and Slack cannot be asked, nobody approves through
    the group (users named directly still can)."""

    def __init__(
        self,
        approvers: Approvers,
        *,
        ttl: float = GROUP_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.approvers = approvers
        self._ttl, self._clock = ttl, clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def is_approver(self, client: Any, user: str) -> bool:
        """True when ``user`` is a configured approver or in a configured group."""
        if user in self.approvers.users:
            return True
        members = {g: self._group(client, g) for g in self.approvers.groups}
        return self.approvers.allows(user, members)

    def known(self, *, limit: int = MAX_HOME_USERS) -> list[str]:
        """The approvers we can name without asking Slack (at most ``limit``, sorted): configured
        users and the groups' last known members, whose Home tabs a change redraws. Never asks:
        the gate's lookups (and their timing) stay where the gate makes them."""
        found = set(self.approvers.users)
        with self._lock:
            for _, members in self._members.values():
                found |= members
        return sorted(found)[:limit]

    def _group(self, client: Any, group: str) -> frozenset[str]:
        with self._lock:
            hit = self._members.get(group)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        try:
            resp = client.usergroups_users_list(usergroup=group)
            users = frozenset(str(u) for u in (resp.get("users") or []))
        except (SlackApiError, SlackClientError, OSError) as exc:
            # Fail closed: the cached members are stale by now, and someone removed from the
            # group must not keep approving for as long as Slack cannot be asked.
            log.warning("usergroups.users.list failed", extra={"group": group, "error": str(exc)})
            return frozenset()
        with self._lock:
            self._members[group] = (self._clock() + self._ttl, users)
        return users
