"""``create_app``: the one place the Slack app is assembled from its parts."""

from __future__ import annotations

import logging
import ssl
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
)

from actions.approvals import Approvers
from actions.executor import Busy
from actions.ledger import Ledger
from actions.names import DIAGNOSTICS
from actions.resources import VaultRef
from bot.approvers import ApproverDirectory
from bot.busy import busy_middleware
from bot.listeners import (
    Deps,
    answer_buttons,
    answer_more,
    approval_card,
    azure_actions,
    commands,
    explain,
    home,
    mentions,
    messages,
    params_modal,
)
from bot.locale import LocaleCache
from bot.logging import new_ref
from bot.metrics import Metrics
from bot.observe import (
    ContextExecutor,
    ObservedWebClient,
    TracedBackground,
    azure_observer,
    request_middleware,
)
from bot.settings import Settings
from bot.slack_retry import BudgetedRateLimitHandler
from knowledge.loader import KnowledgeBase, load_kb
from store import Store, open_store

log = logging.getLogger(__name__)

LISTENER_THREADS = 16
LISTENER_QUEUE = 64  # requests waiting for a listener thread; past that, "busy, try again"


def slack_ssl(settings: Settings) -> ssl.SSLContext | None:
    """TLS for Slack clients: slack_sdk ignores REQUESTS_CA_BUNDLE, so it is handed over here."""
    if settings.requests_ca_bundle is None:
        return None
    return ssl.create_default_context(cafile=str(settings.requests_ca_bundle))


def make_client(settings: Settings) -> WebClient:
    """A WebClient on SLACK_API_URL retrying connection errors and 429s; create_app times it."""
    return ObservedWebClient(
        token=settings.bot_token(),
        base_url=settings.slack_api_url,
        ssl=slack_ssl(settings),
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            BudgetedRateLimitHandler(),
        ],
    )


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    kb: KnowledgeBase | None = None,
    azure: Any = None,
    store: Store | None = None,
) -> App:
    """The Bolt app with every listener registered; parts not given are built from ``settings``.

    ``azure`` is a BackupApi; diagnostics and remediations are offered only when it is given and
    vaults are configured.
    """
    state = store if store is not None else open_store(settings.database_url)
    deps = Deps(
        settings=settings,
        kb=kb if kb is not None else load_kb(),
        store=state,
        metrics=Metrics(),
        locale=LocaleCache(),
        ledger=Ledger(state, key=settings.key()),
        approvers=ApproverDirectory(Approvers.parse(settings.approvers)),
        approval_ttl=timedelta(minutes=settings.approval_ttl_minutes),
    )
    if azure is not None and settings.azure_enabled:
        with_azure(deps, settings, azure)
    secret = settings.slack_signing_secret
    pool = ContextExecutor(LISTENER_THREADS, queue=LISTENER_QUEUE, thread_name_prefix="listener")
    app = App(
        client=client if client is not None else make_client(settings),
        signing_secret=secret.get_secret_value() if secret is not None else "",
        # auth.test runs lazily on the first request, so building the app needs no network.
        token_verification_enabled=False,
        process_before_response=False,
        ignoring_self_events_enabled=True,
        # Listeners run in a copy of the request's context: their log lines keep its request id.
        listener_executor=pool,
        logger=logging.getLogger("slack_bolt"),
    )
    if isinstance(app.client, ObservedWebClient) and app.client.metrics is None:
        app.client.metrics = deps.metrics
    app.use(request_middleware(deps.metrics))
    app.use(busy_middleware(deps, pool))  # a full pool answers "busy" instead of queueing
    app.error(_on_error(deps))
    listeners = (
        messages,
        mentions,
        commands,
        answer_buttons,
        answer_more,
        azure_actions,
        approval_card,
        explain,
        home,
    )
    for module in (*listeners, params_modal):
        module.register(app, deps)
    _ignore_the_rest(app)
    app._backup_fix_deps = deps  # type: ignore[attr-defined] # read by the HTTP server's /metrics
    return app


def with_azure(deps: Deps, settings: Settings, azure: Any) -> None:
    """Diagnostics always, remediations as enabled, on the configured vaults only."""
    from actions.azure import observe_calls  # the Azure SDKs: only when Azure is configured
    from actions.guardrails import Guardrails  # imports every remediation: only when needed
    from actions.resolve import Resolver

    vaults = [VaultRef.parse(v) for v in settings.vaults]
    enabled = frozenset(settings.enabled_actions)
    deps.azure = azure
    deps.guardrails = Guardrails(vaults, enabled)
    deps.resolver = Resolver(azure, vaults, inventory=graph_inventory(settings, azure, vaults))
    deps.background = TracedBackground.for_polling(settings.azure_polling_interval)
    observe_calls(azure, azure_observer(deps.metrics))
    deps.actions = frozenset(DIAGNOSTICS) | enabled


def graph_inventory(settings: Settings, azure: Any, vaults: list[VaultRef]) -> Any:
    """With BACKUP_FIX_SCOPES, the protected items come from Resource Graph (one paged query for
    the estate) rather than from each configured vault in turn; None without scopes."""
    if not settings.scopes:
        return None
    from actions.azure import AzureConfig
    from actions.azure_graph import ResourceGraph
    from actions.inventory import GraphInventory

    config = AzureConfig(
        cloud=settings.azure_cloud,
        arm_endpoint=settings.azure_arm_endpoint,
        read_timeout=settings.azure_read_timeout,
        retry_backoff_factor=settings.azure_retry_backoff,
    )
    graph = ResourceGraph(config, endpoint=settings.resource_graph_endpoint)
    # A configured vault in a subscription the scopes do not name is still listed, through ARM.
    return GraphInventory(graph, settings.graph_scopes, vaults, fallback=azure.list_protected_vms)


def deps_of(app: App) -> Deps:
    """The parts ``create_app`` assembled for ``app``."""
    deps: Deps = app._backup_fix_deps  # type: ignore[attr-defined]
    return deps


def _on_error(deps: Deps) -> Any:
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        if isinstance(error, Busy):  # lost the race to the last free slot: no stack trace
            log.warning("listener threads busy: request refused", extra={"type": body.get("type")})
            return BoltResponse(status=200, body="")
        ref = new_ref()
        deps.metrics.errors.labels("bolt").inc()
        log.error(
            "unhandled error", exc_info=error, extra={"ref": ref, "type": str(body.get("type"))}
        )
        # Slack must not retry a request we failed on: the retry would fail the same way.
        return BoltResponse(status=500, body="", headers={"x-slack-no-retry": "1"})

    return on_error


def _ignore_the_rest(app: App) -> None:
    """Acknowledge events nobody answers (joins, reactions...) so Slack does not retry them."""

    def ack_only(ack: Any) -> None:
        ack()

    app.event({"type": "member_joined_channel"})(ack_only)
    app.event({"type": "member_left_channel"})(ack_only)
