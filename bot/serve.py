"""``backup-fix serve``: settings, logging, store, app; then Socket Mode or HTTP until SIGTERM.

Beside serving: requests whose runner died are reconciled at start and every
``Settings.reconcile_every`` seconds, and in HTTP mode Slack's requests get a 503 (which Slack
retries) while the state store is unreachable, rather than a 200 for work that would then be lost.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.app import create_app, deps_of, make_client
from bot.logging import setup_logging
from bot.server import EVENTS_PATH, HttpServer, WsgiApp, make_probes, make_wsgi, store_probe
from bot.settings import Settings, SettingsError, load_settings
from bot.socket_mode import SocketModeRunner
from knowledge import KnowledgeBaseError, load_kb
from store import StoreError, open_store

log = logging.getLogger(__name__)

EXIT_CONFIG = 2
PRUNE_EVERY = 3600.0  # seconds between prunings of event ids and of records past retention
RETENTION = timedelta(days=90)  # BACKUP_FIX_RETENTION_DAYS' default


class _StopError(SystemExit):
    """Raised by the signal handler to leave the server loop.

    A SystemExit: waitress's loop hands any other exception raised while it serves a connection
    to that connection's error handler, so a SIGTERM arriving mid-request was swallowed and the
    process served on until it was killed.
    """


def _fail(line: str) -> int:
    one_line = " ".join(line.split())  # YAML and driver errors span lines; operators get one
    print(f"backup-fix: {one_line}", file=sys.stderr, flush=True)
    return EXIT_CONFIG


def serve_command(args: argparse.Namespace) -> int:
    """Run the bot until SIGTERM/SIGINT; 2 on a bad setting, 0 after a clean shutdown."""
    try:
        settings = load_settings()
        settings.check_serve(force_http=bool(args.http))
    except SettingsError as exc:
        return _fail(str(exc))
    setup_logging()
    try:
        kb = load_kb(settings.kb_dir)  # all or nothing: a defect anywhere and nothing serves
    except KnowledgeBaseError as exc:
        return _fail(f"knowledge base: {exc}")
    try:
        store = open_store(settings.database_url)
    except StoreError as exc:
        return _fail(f"BACKUP_FIX_DATABASE_URL: {exc}")
    azure = None
    try:
        azure = _azure(settings)
        client = make_client(settings)
        if (problem := _check_token(client)) is not None:
            return _fail(problem)
        app = create_app(settings, client=client, kb=kb, store=store, azure=azure)
        _recover(app, client)
        with (
            _Every(settings.reconcile_every, lambda: _reconcile(app, client)),
            _Every(PRUNE_EVERY, lambda: _prune(store, retention=settings.retention)),
            _Incidents(app, settings),
        ):
            if settings.socket_mode(force_http=bool(args.http)):
                return _run_socket_mode(app, settings)
            return _run_http(app, args.host, int(args.port), settings.probe_port)
    finally:
        if azure is not None:
            azure.close()
        store.close()


def _azure(settings: Settings) -> Any:
    """The Azure API over the configured cloud, only when vaults are configured."""
    if not settings.azure_enabled:
        return None
    from actions.azure_backup import AzureBackupApi

    return AzureBackupApi(_azure_config(settings))


def _azure_config(settings: Settings) -> Any:
    from actions.azure import AzureConfig

    return AzureConfig(
        cloud=settings.azure_cloud,
        arm_endpoint=settings.azure_arm_endpoint,
        polling_interval=settings.azure_polling_interval,
        read_timeout=settings.azure_read_timeout,
        retry_backoff_factor=settings.azure_retry_backoff,
    )


def graph_poller(
    settings: Settings,
    sink: Callable[[Any], None],
    *,
    open_items: Callable[[], Iterable[str]] | None = None,
) -> Any:
    """The Resource Graph poller (BACKUP_FIX_SCOPES every BACKUP_FIX_POLL_MINUTES) handing each
    failed job to ``sink``, built but not started: the incident flow starts and stops it. None
    when polling is off."""
    if settings.poll_every <= 0:
        return None
    from actions.azure_graph import ResourceGraph
    from incidents.poller import build_poller

    graph = ResourceGraph(_azure_config(settings), endpoint=settings.resource_graph_endpoint)
    return build_poller(
        graph,
        settings.graph_scopes,
        sink,
        minutes=settings.poll_every,
        open_items=open_items,
        on_stop=graph.close,
    )


class _Incidents:
    """The incident flow (inbox, outbox, digest; the poller with BACKUP_FIX_SCOPES) while the
    block runs, only when a channel is configured (BACKUP_FIX_ALERT_CHANNEL or routes):
    without one, alerts stay in the inbox and nothing is posted."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self._app, self._settings = app, settings
        self._flow: Any = None

    def __enter__(self) -> _Incidents:
        if not self._settings.posts_incidents:
            return self
        from bot.incident_flow import IncidentFlow

        settings = self._settings

        def poller(sink: Callable[[Any], Any], open_items: Callable[[], list[str]]) -> Any:
            return graph_poller(settings, sink, open_items=open_items)

        self._flow = IncidentFlow(deps_of(self._app), poller=poller).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._flow is not None:
            self._flow.stop()


def _recover(app: Any, client: Any) -> None:
    """Pending approvals survive a restart; those that ran out of time while down expire now."""
    from bot.remediate import expire_overdue

    try:
        expired = expire_overdue(deps_of(app), client)
    except Exception:  # the bot is still useful; the next click expires them anyway
        log.exception("could not expire overdue requests at start")
        return
    if expired:
        log.info("expired overdue approval requests", extra={"count": expired})
    _reconcile(app, client)


def _reconcile(app: Any, client: Any) -> None:
    """Settle requests whose replica died (see ``bot.reconcile``)."""
    from bot.reconcile import reconcile

    try:
        taken = reconcile(deps_of(app), client)
    except Exception:  # the store may be away for a moment: the next round tries again
        log.warning("could not reconcile interrupted requests", exc_info=True)
        return
    if taken:
        log.info("reconciled requests of a stopped replica", extra={"count": taken})


def _prune(store: Any, *, retention: timedelta = RETENTION, now: datetime | None = None) -> None:
    """Forget Slack event ids older than a day (Slack retries within minutes), and what is kept
    only ``retention`` (BACKUP_FIX_RETENTION_DAYS): unmatched pastes, votes, answered threads,
    thread VMs, settled alerts, resolved incidents. The audit trail is never pruned."""
    from incidents import inbox
    from incidents.state import IncidentState

    at = now or datetime.now(UTC)
    try:
        gone = store.prune_events()
        kept_too_long = store.prune_retained(older_than=retention, now=at)
        kept_too_long += inbox.prune(store.engine, before=at - retention)
        kept_too_long += IncidentState(store.engine).prune(older_than=retention, now=at)
    except Exception:  # the store may be away for a moment: the next round tries again
        log.warning("could not prune old records", exc_info=True)
        return
    if gone or kept_too_long:
        log.info("pruned old records", extra={"count": gone, "retained": kept_too_long})


class _Every:
    """Calls ``work`` every ``seconds`` in a daemon thread while the block runs."""

    def __init__(self, seconds: float, work: Callable[[], None]) -> None:
        self._seconds, self._work = seconds, work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="every", daemon=True)

    def __enter__(self) -> _Every:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self._seconds):
            self._work()


def store_gate(wsgi: WsgiApp, store: Any, metrics: Any, *, fresh: float = 1.0) -> WsgiApp:
    """Answer Slack's requests 503 with Retry-After while the store is unreachable (Slack
    retries; the dedupe makes the retry count once); a reachable store is re-checked after
    ``fresh`` seconds at most."""
    ok_at = [-fresh]

    def reachable() -> bool:
        now = time.monotonic()
        if now - ok_at[0] < fresh:
            return True
        try:
            with store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        ok_at[0] = now
        return True

    def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == EVENTS_PATH and not reachable():
            metrics.errors.labels("store").inc()
            log.warning("state store unreachable: asked Slack to retry")
            body = b"state store unavailable, retry later\n"
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Retry-After", "5"),
                ],
            )
            return [body]
        return wsgi(environ, start_response)

    return gated


def _check_token(client: object) -> str | None:
    """A rejected bot token fails at start; an unreachable Slack only warns (it may come back)."""
    try:
        client.auth_test()  # type: ignore[attr-defined]
    except SlackApiError as exc:
        return f"SLACK_BOT_TOKEN: rejected by Slack ({exc.response.get('error')})"
    except (SlackClientError, OSError) as exc:
        log.warning("Slack not reachable at start", extra={"error": type(exc).__name__})
    return None


def _on_signals(handler: object) -> None:
    signal.signal(signal.SIGTERM, handler)  # type: ignore[arg-type]
    signal.signal(signal.SIGINT, handler)  # type: ignore[arg-type]


def _run_http(app: object, host: str, port: int, probe_port: int | None = None) -> int:
    from slack_bolt import App

    assert isinstance(app, App)
    if probe_port is not None and probe_port == port != 0:
        return _fail(f"BACKUP_FIX_PROBE_PORT: {probe_port} is the --port of /slack/events")
    deps = deps_of(app)
    apart = probe_port is not None  # the probes leave the main port for a port of their own
    wsgi = store_gate(make_wsgi(app, deps.metrics, probes=not apart), deps.store, deps.metrics)
    probes = make_probes(deps.metrics, store_probe(app)) if apart else None
    try:
        server = HttpServer(wsgi, host=host, port=port, probes=probes, probe_port=probe_port)
    except OSError as exc:
        ports = f"--port {port}" + (f" / BACKUP_FIX_PROBE_PORT {probe_port}" if apart else "")
        return _fail(f"{ports}: cannot listen on {host}: {exc.strerror or exc}")

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise _StopError

    _on_signals(stop)
    server.announce()
    log.info("listening", extra={"url": server.url})
    if server.probe_url is not None:
        log.info("probes listening", extra={"url": server.probe_url})
    try:
        server.run()  # waitress's run() itself ends on a SystemExit such as _StopError
    except _StopError:
        pass
    finally:
        log.info("shutting down")
        server.close()
        _stop_background(app)
    return 0


def _stop_background(app: Any) -> None:
    background = deps_of(app).background
    if background is not None:
        background.shutdown()


def _run_socket_mode(app: object, settings: Settings) -> int:
    from slack_bolt import App

    assert isinstance(app, App)
    assert settings.slack_app_token is not None
    runner = SocketModeRunner(app, settings.slack_app_token.get_secret_value())
    _on_signals(lambda _s, _f: runner.stop())
    try:
        runner.run()
    except SlackApiError as exc:
        return _fail(f"SLACK_APP_TOKEN: rejected by Slack ({exc.response.get('error')})")
    finally:
        runner.close()
        _stop_background(app)
    log.info("shut down")
    return 0
