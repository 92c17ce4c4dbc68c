"""Logs (request id, Azure correlation id, no secrets), metrics, /readyz, observed clients."""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk.errors import SlackApiError

from actions.azure import AzureConfig, observe_calls, operation_of
from actions.azure_backup import AzureBackupApi
from actions.errors import AzureUnavailable
from actions.resources import VaultRef
from bot.app import create_app, deps_of
from bot.listeners import Deps
from bot.locale import LocaleCache
from bot.logging import REQUEST_ID, ContextFilter, JsonFormatter, redact
from bot.metrics import Metrics
from bot.observe import (
    ContextExecutor,
    ObservedWebClient,
    TracedBackground,
    azure_observer,
    request_id_of,
)
from bot.replies import slack_call
from bot.server import StoreProbe, make_wsgi
from bot.settings import Settings
from knowledge import load_kb
from store import Store, open_store
from tests.fakes import signing
from tests.fakes.arm import FakeArm
from tests.fakes.msi import FakeMsi
from tests.fakes.slack_api import FakeSlack

SECRET = "unit-signing-secret"
SUB = "11111111-2222-3333-4444-555555555555"


class Lines(logging.Handler):
    """JSON lines as setup_logging writes them, kept in memory."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.addFilter(ContextFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(self.lines)]

    def wait(self, msg: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in self.records() if r["msg"] == msg]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no {msg!r} record in {self.lines}")


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler, root = Lines(), logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


# Logs


def test_json_lines_carry_the_request_id_and_mask_secrets(lines: Lines) -> None:
    def in_request() -> None:
        REQUEST_ID.set("Ev123")
        logging.getLogger("t").warning(
            "token xoxb-1-2-abc leaked", extra={"auth": "Bearer eyJhbGciOi.eyJzdWIi.c2ln"}
        )

    contextvars.copy_context().run(in_request)
    logging.getLogger("t").warning("outside")
    first, second = lines.records()
    assert first["request_id"] == "Ev123"
    assert "request_id" not in second  # the id did not leak out of its request's context
    joined = "\n".join(lines.lines)
    assert "xoxb-1-2-abc" not in joined
    assert "eyJhbGciOi" not in joined
    assert "xoxb-***" in joined


@pytest.mark.parametrize(
    ("raw", "hidden"),
    [
        ("xapp-1-A1-2-abcdef", "abcdef"),
        ("Authorization: Bearer abc.def-ghi", "abc.def"),
        ("https://acct.blob.core.windows.net/c?sv=2021&sig=AbC%2F123&se=x", "AbC%2F123"),
        ('{"client_secret": "s3cr3t"}', "s3cr3t"),
        ("password=hunter2;x", "hunter2"),
    ],
)
def test_redact_masks_tokens_and_secrets(raw: str, hidden: str) -> None:
    assert hidden not in redact(raw)
    assert hidden not in redact(json.dumps({"msg": raw}))  # as it appears inside a JSON line


def test_request_id_is_slacks_own_when_the_body_has_one() -> None:
    assert request_id_of({"event_id": "Ev9", "trigger_id": "1.2"}) == "Ev9"
    assert request_id_of({"trigger_id": "1.2.abc"}) == "1.2.abc"
    generated = {request_id_of({}) for _ in range(3)}
    assert len(generated) == 3
    assert all(g.startswith("req-") for g in generated)


def test_context_executor_and_background_keep_the_submitters_request_id() -> None:
    seen: list[str | None] = []
    pool, background = ContextExecutor(2), TracedBackground(workers=1)

    def submit() -> None:
        REQUEST_ID.set("EvCTX")
        pool.submit(lambda: seen.append(REQUEST_ID.get())).result(5)
        background.run("probe", lambda: seen.append(REQUEST_ID.get()))

    contextvars.copy_context().run(submit)
    assert background.idle(5)
    pool.submit(lambda: seen.append(REQUEST_ID.get())).result(5)
    background.shutdown()
    pool.shutdown()
    assert seen == ["EvCTX", "EvCTX", None]


def _signed_event(event: dict[str, Any]) -> tuple[BoltRequest, str]:
    envelope = signing.event_envelope(event)
    raw = json.dumps(envelope)
    headers = signing.signed_headers(SECRET, raw.encode(), content_type="application/json")
    return BoltRequest(body=raw, headers={k: [v] for k, v in headers.items()}), envelope["event_id"]


def test_listener_log_lines_carry_the_slack_event_id(
    lines: Lines, store: Store, fake: FakeSlack
) -> None:
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-unit-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
    )
    from bot.app import make_client

    app = create_app(settings, client=make_client(settings), kb=load_kb(), store=store)
    request, event_id = _signed_event(signing.mention("zzq nothing known here zzq"))
    assert app.dispatch(request).status == 200
    record = lines.wait("unmatched paste recorded")
    assert record["request_id"] == event_id
    assert record["thread"].startswith("listener")  # logged on a listener thread, not the server's
    fake.wait_for("chat.postMessage")
    assert "xoxb-unit-token" not in "\n".join(lines.lines)
    timed = 'backup_fix_slack_call_seconds_count{method="chat.postMessage"}'
    deadline = time.monotonic() + 10  # the call is timed once its answer is read, after the fake
    while timed not in (metrics := deps_of(app).metrics.render().decode()):
        assert time.monotonic() < deadline, metrics
        time.sleep(0.02)
    assert 'backup_fix_unmatched_pastes_total{source="mention"} 1.0' in metrics


# Slack calls


def test_observed_client_times_calls_and_counts_a_failure_once(fake: FakeSlack) -> None:
    metrics = Metrics()
    deps = Deps(
        settings=Settings(), kb=load_kb(), store=None, metrics=metrics, locale=LocaleCache()
    )  # type: ignore[arg-type]
    client = ObservedWebClient(token="xoxb-x", base_url=fake.api_url)
    client.metrics = metrics
    client.chat_postMessage(channel="C1", text="hi")
    fake.fail_next("chat.postMessage", status=500)
    assert (
        slack_call(
            deps, "chat.postMessage", lambda: client.chat_postMessage(channel="C1", text="x")
        )
        is None
    )
    text = metrics.render().decode()
    assert 'backup_fix_slack_call_seconds_count{method="chat.postMessage"} 2.0' in text
    assert 'backup_fix_slack_call_errors_total{method="chat.postMessage"} 1.0' in text


def test_observed_client_reraises_slack_errors(fake: FakeSlack) -> None:
    client = ObservedWebClient(token="xoxb-x", base_url=fake.api_url)
    client.metrics = Metrics()
    fake.fail_next("chat.update", status=400)
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C1", ts="1.1", text="x")


# Azure calls


def test_operation_names_carry_types_not_names() -> None:
    url = (
        f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg/providers/"
        "Microsoft.RecoveryServices/vaults/v1/backupFabrics/Azure/protectionContainers/c/"
        "protectedItems/p/backup?api-version=2024-04-01"
    )
    assert operation_of("POST", url) == (
        "POST Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/"
        "protectedItems/backup"
    )
    assert operation_of("GET", f"https://x/subscriptions/{SUB}/resourcegroups?a=b") == (
        "GET subscriptions/resourcegroups"
    )


@pytest.fixture
def arm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    with FakeArm() as fake_arm, FakeMsi() as msi:
        for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "MSI_ENDPOINT"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("IDENTITY_ENDPOINT", msi.endpoint)
        monkeypatch.setenv("IDENTITY_HEADER", msi.secret)
        monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake_arm.ca_bundle)
        yield fake_arm


def test_azure_calls_are_timed_and_logged_with_their_correlation_id(
    arm: FakeArm, lines: Lines
) -> None:
    vault = VaultRef.parse(arm.add_vault(SUB, "rg-backup", "vault-prod"))
    config = AzureConfig(
        arm_endpoint=arm.url, retry_total=1, retry_backoff_factor=0.01, read_timeout=2
    )
    metrics = Metrics()
    with AzureBackupApi(config) as api:
        assert observe_calls(api, azure_observer(metrics))
        api.list_protected_vms(vault)
        sent = arm.calls("GET", "backupProtectedItems")[-1].correlation_id
        ok = lines.wait("azure call")
        assert ok["azure_correlation_id"] == sent
        assert ok["status"] == 200
        assert SUB not in ok["operation"]

        def failing() -> None:
            arm.fail("GET", "backupProtectedItems", 500, times=None)
            with pytest.raises(AzureUnavailable):
                api.list_protected_vms(vault)
            logging.getLogger("t").error("remediation failed")

        contextvars.copy_context().run(failing)
    failed = [r for r in lines.records() if r["msg"] == "azure call" and r["status"] == 500]
    assert len(failed) == 2  # the first try and one retry, each with its own correlation id
    assert all(r["azure_correlation_id"] for r in failed)
    after = next(r for r in lines.records() if r["msg"] == "remediation failed")
    assert after["azure_correlation_id"] == failed[-1]["azure_correlation_id"]
    text = metrics.render().decode()
    assert "backup_fix_azure_call_seconds_bucket{" in text
    assert 'status_class="5xx"} 2.0' in text  # the error counter, by operation and class
    assert "Bearer" not in "\n".join(lines.lines)


def test_observing_is_only_for_the_sdk_api() -> None:
    assert observe_calls(object(), azure_observer(Metrics())) is False


# Metrics and readiness


def test_metrics_cover_what_the_issue_lists() -> None:
    text = Metrics().render().decode()
    for name in (
        "backup_fix_events",
        "backup_fix_matches",
        "backup_fix_unmatched_pastes",
        "backup_fix_replies",
        "backup_fix_feedback",
        "backup_fix_actions_requested",
        "backup_fix_actions_approved",
        "backup_fix_actions_executed",
        "backup_fix_actions_failed",
        "backup_fix_azure_call_seconds",
        "backup_fix_azure_call_errors",
        "backup_fix_slack_call_seconds",
        "backup_fix_slack_call_errors",
    ):
        assert f"# TYPE {name} " in text or f"# TYPE {name}_total counter" in text, name


def _get(wsgi: Any, path: str) -> str:
    status: list[str] = []
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": None}
    b"".join(wsgi(environ, lambda s, _h: status.append(s)))
    return status[0]


def test_readyz_is_200_with_the_store_and_503_without(store: Store, tmp_path: Path) -> None:
    settings = Settings(SLACK_BOT_TOKEN="xoxb-unit", SLACK_SIGNING_SECRET=SECRET)
    app = create_app(
        settings, client=ObservedWebClient(token="xoxb-unit"), kb=load_kb(), store=store
    )
    assert _get(make_wsgi(app, Metrics()), "/readyz").startswith("200")
    down = Store(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'state.db'}")
    wsgi = make_wsgi(app, Metrics(), ready=StoreProbe(down, timeout=1.0))
    assert _get(wsgi, "/readyz").startswith("503")
    assert _get(wsgi, "/healthz").startswith("200")  # the process is up all the same


class _HungEngine:
    def __init__(self) -> None:
        self.release = threading.Event()

    def connect(self) -> Any:
        self.release.wait(10)
        raise OSError("never answered")


class _HungStore:
    def __init__(self) -> None:
        self.engine = _HungEngine()


def test_readyz_gives_up_on_a_store_that_does_not_answer() -> None:
    hung = _HungStore()
    probe = StoreProbe(hung, timeout=0.2)  # type: ignore[arg-type]
    started = time.monotonic()
    assert probe() is False
    assert probe() is False  # the first probe still hangs: no second thread piles up behind it
    assert time.monotonic() - started < 2
    hung.engine.release.set()
