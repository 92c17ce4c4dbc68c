"""The alert intake without HTTP: schema, authentication (URL token, Entra ID tokens against a
local issuer over HTTPS), the inbox, and the WSGI handler's answers."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, func, select

from incidents import inbox
from incidents.intake import build, vault_allow_list
from incidents.intake.auth import Authenticator, EntraVerifier, Unauthenticated, issuers
from incidents.intake.handler import MAX_BODY, make_intake
from incidents.intake.keys import KeySet, KeysUnavailable, https_fetch
from incidents.intake.schema import NotTheSchema, read_alert
from store import Store, open_store
from tests import alert_samples as samples
from tests.fakes.oidc import FakeTenant, new_key

TOKEN = "s3cret-alert-token-0123456789"
IN_SCOPE = vault_allow_list([samples.SQL_VAULT, samples.APP_VAULT])


# Schema


def test_the_real_sql_alert_reads_into_a_job_outcome() -> None:
    alert = read_alert(samples.sql(), in_scope=IN_SCOPE)
    out = alert.outcome
    assert out is not None
    assert alert.monitor_condition == "Fired"
    assert out.source == "alert"
    assert out.succeeded is False
    assert out.vault_id.lower() == samples.SQL_VAULT.lower()
    assert out.subscription_id == samples.SUB
    assert out.item_name == "Clara_migtotest_20260313"
    assert out.workload == "SQLDataBase"
    assert out.operation == "Backup"
    assert out.at == datetime(2026, 3, 13, 11, 56, 13, 939234, tzinfo=UTC)
    assert out.job_id.endswith("/backupJobs/88df0be3-7c77-46c9-bfc2-fb92e3b1918a")
    assert out.item_id.endswith("/protectedItems/SQLDataBase;MSSQLSERVER;Clara_migtotest_20260313")
    assert out.error_message == "First full backup is missing for this datasource."
    assert out.error_codes == ()  # the alert names none; the job read later does
    assert out.alert_id.endswith("/alerts/632063ae-ef07-30d8-3908-fe306941000e")
    assert out.portal_link.startswith("https://portal.azure.com/")
    assert out.raw["linkedResourceName"] == "vm-sql-prod-02"
    assert "aka.ms/AB-usererrorparentfullbackupmissing" in str(out.raw["recommendedActions"])


@pytest.mark.parametrize(
    ("make", "name", "workload", "codes"),
    [
        (samples.vm, "vm-app-01", "AzureIaasVM", ()),
        (samples.files, "finance", "AzureFileShare", ()),
        (samples.mars, "srv-file-01", "FileFolder", ("SalVhdInitializationError",)),
    ],
)
def test_composed_shapes_read_their_item_and_workload(
    make: Any, name: str, workload: str, codes: tuple[str, ...]
) -> None:
    doc = make()
    out = read_alert(doc, in_scope=IN_SCOPE).outcome
    assert out is not None
    assert (out.item_name, out.workload, out.error_codes) == (name, workload, codes)
    job = doc["data"]["alertContext"]["extendedInfo"]["jobId"]
    assert out.job_id == f"{samples.APP_VAULT.lower()}/backupJobs/{job}"
    assert out.incident_key.startswith(out.item_id.lower())


def test_error_codes_from_explicit_fields_only_and_valid() -> None:
    doc = samples.vm()
    ext = doc["data"]["alertContext"]["extendedInfo"]
    ext["errorCodes"] = ["UserErrorGuestAgentStatusUnavailable", "<script>", 2147942402]
    ext["errorDetails"] = [{"errorCode": "ExtensionSnapshotFailedNoNetwork"}]
    out = read_alert(doc, in_scope=IN_SCOPE).outcome
    assert out is not None
    assert out.error_codes == (
        "UserErrorGuestAgentStatusUnavailable",
        "2147942402",
        "ExtensionSnapshotFailedNoNetwork",
    )


def test_resolved_is_a_success_of_the_same_alert() -> None:
    fired = samples.vm()
    a = read_alert(fired, in_scope=IN_SCOPE)
    b = read_alert(samples.resolved(fired), in_scope=IN_SCOPE)
    assert a.outcome is not None
    assert b.outcome is not None
    assert (a.outcome.succeeded, b.outcome.succeeded) == (False, True)
    assert a.alert_id == b.alert_id
    assert (a.monitor_condition, b.monitor_condition) == ("Fired", "Resolved")


def test_a_restore_failure_is_a_restore() -> None:
    doc = samples.vm()
    doc["data"]["essentials"]["alertRule"] = "Restore Failure"
    out = read_alert(doc, in_scope=IN_SCOPE).outcome
    assert out is not None
    assert out.operation == "Restore"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(samples.metric()), "not_backup"),
        (lambda d: d["data"]["essentials"].update(alertTargetIDs=["/subscriptions/x"]), "no_vault"),
        (
            lambda d: d["data"]["essentials"].update(alertTargetIDs=[samples.OTHER_VAULT]),
            "out_of_scope",
        ),
        (lambda d: d["data"].update(alertContext={"category": "Security"}), "not_a_job"),
    ],
)
def test_alerts_we_do_not_keep_say_why(change: Any, reason: str) -> None:
    doc = samples.vm()
    change(doc)
    alert = read_alert(doc, in_scope=IN_SCOPE)
    assert (alert.outcome, alert.dropped) == (None, reason)


def test_scope_is_case_insensitive_and_nothing_is_in_an_empty_one() -> None:
    assert vault_allow_list([samples.SQL_VAULT])(samples.SQL_VAULT.lower())
    assert read_alert(samples.sql(), in_scope=vault_allow_list([])).dropped == "out_of_scope"


@pytest.mark.parametrize(
    "doc",
    [
        [],
        "alert",
        {"schemaId": "Microsoft.Insights/activityLogs", "data": {}},
        {"schemaId": "azureMonitorCommonAlertSchema"},
        {"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": []}},
        {"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {"alertId": "x"}}},
        {
            "schemaId": "azureMonitorCommonAlertSchema",
            "data": {"essentials": {"alertId": "x", "monitorCondition": "Acknowledged"}},
        },
    ],
)
def test_what_is_not_the_schema_is_refused(doc: Any) -> None:
    with pytest.raises(NotTheSchema):
        read_alert(doc, in_scope=IN_SCOPE)


# Authentication: the URL token


def _environ(query: str = "", bearer: str | None = None) -> dict[str, Any]:
    environ: dict[str, Any] = {"QUERY_STRING": query}
    if bearer is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
    return environ


def test_url_token_right_wrong_missing() -> None:
    auth = Authenticator(token=TOKEN)
    assert auth.check(_environ(f"token={TOKEN}")) == "token"
    for query in (f"token={TOKEN}x", "token=", "", f"tok={TOKEN}", f"token={TOKEN[:-1]}"):
        with pytest.raises(Unauthenticated) as info:
            auth.check(_environ(query))
        assert TOKEN not in str(info.value)


def test_nothing_configured_is_not_configured() -> None:
    assert not Authenticator().configured
    assert Authenticator(token=TOKEN).configured


# Authentication: Entra ID tokens from a local issuer over HTTPS


@pytest.fixture(scope="module")
def tenant() -> Iterator[FakeTenant]:
    with FakeTenant() as t:
        yield t


class Clock:
    """A settable clock (seconds since 1970)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _verifier(tenant: FakeTenant, clock: Clock | None = None, **kw: Any) -> EntraVerifier:
    clock = clock or Clock()
    keys = KeySet(
        fetch=https_fetch(ca_bundle=_path(tenant.ca_bundle)),
        jwks_url=kw.pop("jwks_url", tenant.jwks_url),
        metadata_url=kw.pop("metadata_url", None),
        clock=clock,
        **kw,
    )
    return EntraVerifier(tenant=tenant.tenant, audiences=(tenant.audience,), keys=keys, clock=clock)


def _path(value: str) -> Any:
    from pathlib import Path

    return Path(value)


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_a_valid_token_of_either_version_passes(tenant: FakeTenant, version: str) -> None:
    claims = _verifier(tenant).verify(tenant.token(version=version))
    assert claims["tid"] == tenant.tenant
    assert claims["iss"] in issuers(tenant.tenant)


def test_keys_found_through_the_tenant_metadata(tenant: FakeTenant) -> None:
    verifier = _verifier(tenant, jwks_url=None, metadata_url=tenant.metadata_url)
    assert verifier.verify(tenant.token())["aud"] == tenant.audience


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"aud": "api://someone-else"}, "Audience"),
        ({"iss": "https://sts.windows.net/11111111-2222-3333-4444-555555555555/"}, "Issuer"),
        ({"roles": ["Reader"]}, "role"),
        ({"roles": None}, "role"),
        ({"exp": None}, "exp"),
        ({"tid": "11111111-2222-3333-4444-555555555555"}, "tenant"),
    ],
)
def test_tokens_that_fail_a_claim_are_refused(
    tenant: FakeTenant, changes: dict[str, Any], why: str
) -> None:
    with pytest.raises(Unauthenticated, match=why):
        _verifier(tenant).verify(tenant.token(**changes))


def test_a_forged_signature_is_refused(tenant: FakeTenant) -> None:
    forged = tenant.token(key=new_key())  # the tenant's kid, a forger's key
    with pytest.raises(Unauthenticated, match="Signature"):
        _verifier(tenant).verify(forged)


def test_another_tenants_token_is_refused(tenant: FakeTenant) -> None:
    with FakeTenant(audience=tenant.audience) as other:
        with pytest.raises(Unauthenticated):
            _verifier(tenant).verify(other.token())  # unknown kid, foreign issuer
        # Even signed with a key we trust, its issuer names another tenant.
        foreign = tenant.token(iss=f"https://sts.windows.net/{other.tenant}/", tid=other.tenant)
        with pytest.raises(Unauthenticated, match="Issuer"):
            _verifier(tenant).verify(foreign)


def test_unsigned_and_symmetric_tokens_are_refused(tenant: FakeTenant) -> None:
    import jwt

    claims = tenant.claims()
    for token in (
        jwt.encode(claims, None, algorithm="none"),
        jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": tenant.kid}),
        "not.a.jwt",
        "x" * 9000,
    ):
        with pytest.raises(Unauthenticated):
            _verifier(tenant).verify(token)


def test_expiry_and_not_before_follow_the_clock_with_a_small_leeway(tenant: FakeTenant) -> None:
    clock = Clock()
    verifier = _verifier(tenant, clock)
    token = tenant.token(exp=int(clock.now) + 100, nbf=int(clock.now))
    clock.now += 100 + 30  # inside the leeway
    verifier.verify(token)
    clock.now += 60
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)
    early = tenant.token(nbf=int(clock.now) + 600, exp=int(clock.now) + 3600)
    with pytest.raises(Unauthenticated, match="not valid yet"):
        verifier.verify(early)


def test_an_unknown_kid_refreshes_the_keys_once_then_waits(tenant: FakeTenant) -> None:
    clock = Clock()
    verifier = _verifier(tenant, clock, min_refresh=60.0)
    verifier.verify(tenant.token())
    assert verifier.keys.fetches == 1
    rotated = tenant.rotate()  # Entra ID rolls its keys: tokens name the new kid
    try:
        verifier.verify(tenant.token(kid=rotated))
        assert verifier.keys.fetches == 2
        # Made-up kids do not turn every request into a fetch: one per minute at most.
        for _ in range(5):
            with pytest.raises(Unauthenticated, match="does not publish"):
                verifier.verify(tenant.token(kid="made-up", key=new_key()))
        assert verifier.keys.fetches == 2
        clock.now += 61
        for _ in range(3):
            with pytest.raises(Unauthenticated, match="does not publish"):
                verifier.verify(tenant.token(kid="made-up-too", key=new_key()))
        assert verifier.keys.fetches == 3
    finally:
        tenant.forget(rotated)


def test_keys_are_refetched_after_a_day_and_kept_when_that_fails(tenant: FakeTenant) -> None:
    calls: list[str] = []
    down = [False]

    def fetch(url: str) -> dict[str, Any]:
        calls.append(url)
        if down[0]:
            raise KeysUnavailable("down")
        return tenant.jwks()

    clock = Clock()
    keys = KeySet(fetch=fetch, jwks_url="https://keys.example/k", clock=clock)
    verifier = EntraVerifier(
        tenant=tenant.tenant, audiences=(tenant.audience,), keys=keys, clock=clock
    )
    verifier.verify(tenant.token())
    clock.now += 3600
    verifier.verify(tenant.token(exp=int(clock.now) + 600))
    assert len(calls) == 1
    clock.now += 24 * 3600
    down[0] = True
    verifier.verify(tenant.token(exp=int(clock.now) + 600))  # the old keys still serve
    assert len(calls) == 2


def test_no_keys_at_all_is_unavailable_not_unauthenticated(tenant: FakeTenant) -> None:
    def fetch(url: str) -> dict[str, Any]:
        raise KeysUnavailable("down")

    keys = KeySet(fetch=fetch, jwks_url="https://keys.example/k")
    verifier = EntraVerifier(tenant=tenant.tenant, audiences=(tenant.audience,), keys=keys)
    with pytest.raises(KeysUnavailable):
        verifier.verify(tenant.token())


def test_either_configured_proof_suffices(tenant: FakeTenant) -> None:
    auth = Authenticator(token=TOKEN, entra=_verifier(tenant))
    assert auth.check(_environ(f"token={TOKEN}")) == "token"
    assert auth.check(_environ(bearer=tenant.token())) == "entra"
    with pytest.raises(Unauthenticated):
        auth.check(_environ("token=wrong", bearer=tenant.token(aud="api://other")))


# The inbox


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.close()


def _outcome(doc: dict[str, Any] | None = None) -> Any:
    out = read_alert(doc or samples.vm(), in_scope=IN_SCOPE).outcome
    assert out is not None
    return out


def _rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inbox.alert_inbox)).scalar_one())


def test_inbox_stores_each_alert_and_condition_once(store: Store) -> None:
    doc = samples.vm()
    assert inbox.put(store.engine, _outcome(doc))
    assert not inbox.put(store.engine, _outcome(doc))  # the action group's retry
    assert inbox.put(store.engine, _outcome(samples.resolved(doc)))
    assert _rows(store) == 2


def test_inbox_claims_lease_and_settle(store: Store) -> None:
    first, second = _outcome(), _outcome(samples.sql())
    inbox.put(store.engine, first)
    inbox.put(store.engine, second)
    now = datetime.now(UTC)
    taken = inbox.claim(store.engine, now, timedelta(minutes=1))
    assert [c.outcome for c in taken] == [first, second]
    assert [c.attempts for c in taken] == [1, 1]
    assert inbox.claim(store.engine, now, timedelta(minutes=1)) == []  # leased
    assert inbox.done(store.engine, taken[0].id)
    # A worker that died: its lease runs out and the row is claimed again.
    again = inbox.claim(store.engine, now + timedelta(minutes=2), timedelta(minutes=1))
    assert [(c.id, c.attempts) for c in again] == [(taken[1].id, 2)]
    later = now + timedelta(minutes=2)
    assert (
        inbox.fail(
            store.engine, again[0].id, "Slack 500", now=later, retry_in=timedelta(seconds=30)
        )
        == "new"
    )
    assert inbox.claim(store.engine, later, timedelta(minutes=1)) == []  # not before the retry
    retry = inbox.claim(store.engine, later + timedelta(seconds=31), timedelta(minutes=1))
    assert [c.attempts for c in retry] == [3]
    assert (
        inbox.fail(
            store.engine,
            retry[0].id,
            "gone",
            now=later,
            retry_in=timedelta(seconds=1),
            max_attempts=3,
        )
        == "failed"
    )
    assert inbox.claim(store.engine, later + timedelta(days=1), timedelta(minutes=1)) == []


def test_inbox_payload_is_bounded(store: Store) -> None:
    out = _outcome()
    big = type(out)(
        **{**{f: getattr(out, f) for f in out.__dataclass_fields__}, "raw": {"x": "y" * 200_000}}
    )
    assert len(inbox.encode(big).encode()) <= inbox.MAX_PAYLOAD
    inbox.put(store.engine, big)
    (claimed,) = inbox.claim(store.engine, datetime.now(UTC), timedelta(minutes=1))
    assert claimed.outcome == out  # every field but the raw extras
    assert claimed.outcome.raw == {}


# The WSGI handler


def _call(
    app: Any, body: bytes = b"", *, query: str = "", method: str = "POST", **env: Any
) -> tuple[int, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/azure/alerts",
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **env,
    }
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    data = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], data


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def intake(store: Store) -> tuple[Any, CollectorRegistry]:
    registry = CollectorRegistry()
    app = make_intake(
        Authenticator(token=TOKEN), store.engine, in_scope=IN_SCOPE, registry=registry
    )
    return app, registry


def test_handler_stores_once_and_answers_202(intake: Any, store: Store) -> None:
    app, registry = intake
    body = samples.body(samples.sql())
    status, _, data = _call(app, body, query=f"token={TOKEN}")
    assert (status, json.loads(data)["result"]) == (202, "stored")
    status, _, data = _call(app, body, query=f"token={TOKEN}")
    assert (status, json.loads(data)["result"]) == (202, "duplicate")
    assert _rows(store) == 1
    assert _sample(registry, "backup_fix_alerts_received_total", result="stored") == 1


def test_handler_refuses_without_storing(intake: Any, store: Store) -> None:
    app, registry = intake
    body = samples.body(samples.sql())
    assert _call(app, body, query="token=wrong")[0] == 401
    assert _call(app, body)[0] == 401
    assert _call(app, b'{"schemaId": "other"}', query=f"token={TOKEN}")[0] == 400
    assert _call(app, b"{not json", query=f"token={TOKEN}")[0] == 400
    assert _call(app, b"[" * 100_000 + b"]" * 100_000, query=f"token={TOKEN}")[0] == 400
    huge = b" " * (MAX_BODY + 1)
    assert _call(app, huge, query=f"token={TOKEN}")[0] == 413
    assert _call(app, huge, query=f"token={TOKEN}", CONTENT_LENGTH="")[0] == 413  # chunked
    status, headers, _ = _call(app, method="GET", query=f"token={TOKEN}")
    assert (status, headers.get("Allow")) == (405, "POST")
    assert _rows(store) == 0
    assert _sample(registry, "backup_fix_alerts_received_total", result="unauthenticated") == 2


def test_handler_counts_and_drops_what_is_not_ours(intake: Any, store: Store) -> None:
    app, registry = intake
    other = samples.vm(vault=samples.OTHER_VAULT)
    for doc in (samples.metric(), other):
        status, _, data = _call(app, samples.body(doc), query=f"token={TOKEN}")
        assert (status, json.loads(data)["result"]) == (202, "dropped")
    assert _rows(store) == 0
    assert _sample(registry, "backup_fix_alerts_dropped_total", reason="not_backup") == 1
    assert _sample(registry, "backup_fix_alerts_dropped_total", reason="out_of_scope") == 1


def test_handler_asks_azure_to_retry_when_the_store_is_away(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}")  # no alert_inbox table
    app = make_intake(
        Authenticator(token=TOKEN), engine, in_scope=IN_SCOPE, registry=CollectorRegistry()
    )
    status, headers, _ = _call(app, samples.body(samples.sql()), query=f"token={TOKEN}")
    assert (status, headers.get("Retry-After")) == (503, "10")


def test_build_is_none_without_auth(store: Store) -> None:
    kw: dict[str, Any] = {
        "engine": store.engine,
        "registry": CollectorRegistry(),
        "in_scope": IN_SCOPE,
    }
    assert build(**kw) is None
    assert build(**kw, tenant="72f988bf-86f1-41af-91ab-2d7cd011db47") is None  # no audience
    assert build(**kw, token=TOKEN) is not None
