"""The incident flow inside ``serve``: the inbox worker, the outbox worker, the digest and the
Resource Graph poller, started with the app when a channel is configured and stopped cleanly.

Built from the settings and the app's parts; the logic lives in ``incidents/``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from bot.incident_slack import SlackOutbox, outbox_client
from bot.listeners import Deps
from bot.settings import Settings
from incidents import digest
from incidents.post import Poster, Routes
from incidents.process import Processor, Worker
from incidents.state import IncidentState

log = logging.getLogger(__name__)

DIGEST_EVERY = 30.0  # seconds between looks at the clock for the digest


def routes_of(settings: Settings) -> Routes:
    """BACKUP_FIX_ALERT_ROUTES and BACKUP_FIX_ALERT_CHANNEL (validated by the settings)."""
    return Routes.parse(settings.alert_routes, default=settings.alert_channel)


def job_reader(azure: Any) -> Callable[[str, str], Any] | None:
    """(vault id, job name) -> Job through the Azure SDK; None without Azure."""
    if azure is None:
        return None
    from actions.resources import VaultRef

    def read(vault_id: str, job_name: str) -> Any:
        return azure.get_job(VaultRef.parse(vault_id), job_name)

    return read


class IncidentFlow:
    """The background parts of the incident flow of one replica."""

    def __init__(
        self,
        deps: Deps,
        *,
        slack: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poller: Callable[[Callable[[Any], Any], Callable[[], list[str]]], Any] | None = None,
    ) -> None:
        settings = deps.settings
        self.deps, self.clock = deps, clock
        self.routes = routes_of(settings)
        self.state = IncidentState(deps.store.engine)
        self.processor = Processor(
            self.state,
            deps.kb,
            route=self.routes.channel_for,
            read_job=job_reader(deps.azure),
            clock=clock,
        )
        port = slack if slack is not None else SlackOutbox(outbox_client(settings))
        self.poster = Poster(
            deps.store.engine,
            self.state,
            port,
            deps.kb,
            actions_for=self.actions_for,
            clock=clock,
        )
        self.poller = (
            poller(self.processor.handle, self.state.open_item_keys) if poller is not None else None
        )
        self._workers: list[Worker] = []

    def actions_for(self, vault_id: str, channel: str) -> Collection[str]:
        """Buttons on an incident: only for configured vaults, only in action channels."""
        allowed = {v.lower() for v in self.deps.settings.vaults}
        if vault_id.rstrip("/").lower() not in allowed:
            return ()
        return self.deps.actions_in(channel)

    def digest_step(self) -> int:
        """Queue today's digest once its time has come (once across replicas)."""
        settings = self.deps.settings
        at, channel = settings.digest_at, settings.digest_channel or settings.alert_channel
        if at is None or not channel:
            return 0
        digest.run_digest(self.deps.store.engine, self.clock(), at=at, channel=channel)
        return 0

    def start(self) -> IncidentFlow:
        """Start the workers (and the poller when there is one)."""
        engine = self.deps.store.engine
        self._workers = [
            Worker("incident-inbox", lambda: self.processor.work_inbox(engine)).start(),
            Worker("incident-outbox", self.poster.step, idle=0.2).start(),
            Worker("incident-digest", self.digest_step, idle=DIGEST_EVERY).start(),
        ]
        if self.poller is not None:
            self.poller.start()
        log.info("incident flow started", extra={"poller": self.poller is not None})
        return self

    def stop(self) -> None:
        """Stop the poller and the workers after what they are doing."""
        if self.poller is not None:
            self.poller.stop()
        for worker in self._workers:
            worker.stop()
        self._workers = []
