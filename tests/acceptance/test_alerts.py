"""POST /azure/alerts over real HTTP against a running ``serve --http``: the URL token, Entra ID
secure-webhook tokens from a local issuer over HTTPS, the schema, the bound, the inbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from incidents import inbox
from tests import alert_samples as samples
from tests.acceptance.conftest import SECRET, Slack, bot_env, sqlite_url
from tests.fakes.botproc import BotProcess, run_to_exit
from tests.fakes.oidc import FakeTenant, new_key
from tests.fakes.signing import Response, SignedClient
from tests.fakes.slack_api import FakeSlack

TOKEN = "acceptance-alert-token-5f2c9e"
PATH = "/azure/alerts"


class Alerts:
    """Posts alerts to one bot and reads its inbox."""

    def __init__(self, bot: BotProcess, db_url: str, tenant: FakeTenant) -> None:
        self.bot, self.tenant = bot, tenant
        self.client = SignedClient(bot.url, SECRET)
        self.engine = create_engine(db_url)

    def post(
        self, document: Any, *, token: str | None = TOKEN, bearer: str | None = None
    ) -> Response:
        body = document if isinstance(document, bytes) else samples.body(document)
        headers = {"Content-Type": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        path = PATH if token is None else f"{PATH}?token={token}"
        return self.client.request("POST", path, body, headers)

    def stored(self, alert_id: str | None = None) -> list[dict[str, Any]]:
        query = select(inbox.alert_inbox)
        if alert_id is not None:
            query = query.where(inbox.alert_inbox.c.alert_id == alert_id)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def count(self) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(inbox.alert_inbox)
            return int(conn.execute(query).scalar_one())


@pytest.fixture(scope="module")
def tenant() -> Iterator[FakeTenant]:
    with FakeTenant() as t:
        yield t


def alerts_stored(db_url: str) -> bool:
    """Whether the bot behind ``db_url`` stored any alert."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(inbox.alert_inbox).limit(1)).first() is not None
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def alerts(
    fake: FakeSlack, tenant: FakeTenant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Alerts]:
    db = sqlite_url(tmp_path_factory.mktemp("alerts"))
    env = bot_env(
        fake,
        db,
        BACKUP_FIX_VAULTS=f"{samples.SQL_VAULT},{samples.APP_VAULT}",
        BACKUP_FIX_ALERT_TOKEN=TOKEN,
        BACKUP_FIX_ALERT_TENANT_ID=tenant.tenant,
        BACKUP_FIX_ALERT_AUDIENCE=tenant.audience,
        BACKUP_FIX_ALERT_JWKS_URL=tenant.jwks_url,
        REQUESTS_CA_BUNDLE=tenant.ca_bundle,
    )
    bot = BotProcess(env).start()
    yield Alerts(bot, db, tenant)
    bot.stop()
    log = bot.stderr + bot.stdout
    # xdist may give this module's tests to several workers: only a bot that stored an alert
    # must have said so; none may have logged the token or a body.
    if alerts_stored(db):
        assert "alert stored" in log
    assert TOKEN not in log, "the URL token reached the log"
    assert "Clara_migtotest" not in log, "an alert's body reached the log"


def _id(document: dict[str, Any]) -> str:
    return str(document["data"]["essentials"]["alertId"])


def test_without_alert_auth_the_endpoint_does_not_exist(slack: Slack) -> None:
    body = samples.body(samples.sql())
    resp = slack.client.request("POST", f"{PATH}?token={TOKEN}", body, {})
    assert resp.status == 404


def test_the_real_sql_alert_is_stored_once_and_answered_202(alerts: Alerts) -> None:
    doc = samples.sql()
    first = alerts.post(doc)
    assert first.status == 202, first.body
    for _ in range(5):  # the action group's retries
        assert alerts.post(doc).status == 202
    (row,) = alerts.stored(_id(doc))
    assert (row["status"], row["monitor_condition"], row["attempts"]) == ("new", "Fired", 0)
    record = inbox.decode(row["payload"])
    assert record.item_name == "Clara_migtotest_20260313"
    assert record.job_id.endswith("/backupJobs/88df0be3-7c77-46c9-bfc2-fb92e3b1918a")
    assert alerts.post(samples.resolved(doc)).status == 202
    assert len(alerts.stored(_id(doc))) == 2


@pytest.mark.parametrize(
    ("make", "item"),
    [(samples.vm, "vm-app-01"), (samples.files, "finance"), (samples.mars, "srv-file-01")],
)
def test_vm_files_and_mars_alerts_are_stored(alerts: Alerts, make: Any, item: str) -> None:
    doc = make()
    assert alerts.post(doc).status == 202
    (row,) = alerts.stored(_id(doc))
    assert inbox.decode(row["payload"]).item_name == item


@pytest.mark.parametrize("token", ["wrong-token-wrong-token", "", None])
def test_a_wrong_or_missing_token_is_401_and_leaves_nothing(
    alerts: Alerts, token: str | None
) -> None:
    doc, before = samples.vm(), alerts.count()
    assert alerts.post(doc, token=token).status == 401
    assert alerts.count() == before


def test_a_valid_secure_webhook_token_is_accepted(alerts: Alerts) -> None:
    for version in ("1.0", "2.0"):
        doc = samples.vm()
        resp = alerts.post(doc, token=None, bearer=alerts.tenant.token(version=version))
        assert resp.status == 202, resp.body
        assert len(alerts.stored(_id(doc))) == 1


def _bad_tokens(tenant: FakeTenant) -> dict[str, str]:
    past = 1_700_000_000
    other = "0f0f0f0f-1111-2222-3333-444444444444"
    return {
        "forged": tenant.token(key=new_key()),
        "expired": tenant.token(exp=past, nbf=past - 3600, iat=past - 3600),
        "wrong audience": tenant.token(aud="api://another-app"),
        "wrong tenant": tenant.token(iss=f"https://sts.windows.net/{other}/", tid=other),
        "missing role": tenant.token(roles=["Contributor"]),
        "not a JWT": "abc.def.ghi",
    }


def test_bad_secure_webhook_tokens_are_401_and_leave_nothing(alerts: Alerts) -> None:
    before = alerts.count()
    for name, bad in _bad_tokens(alerts.tenant).items():
        resp = alerts.post(samples.vm(), token=None, bearer=bad)
        assert resp.status == 401, name
    assert alerts.count() == before


def test_a_rotated_key_is_fetched_and_made_up_kids_are_not(alerts: Alerts) -> None:
    tenant = alerts.tenant
    assert alerts.post(samples.vm(), token=None, bearer=tenant.token()).status == 202
    fetched = tenant.fetches
    rotated = tenant.rotate()
    assert alerts.post(samples.vm(), token=None, bearer=tenant.token(kid=rotated)).status == 202
    assert tenant.fetches == fetched + 1
    for _ in range(3):  # just after a refresh: no new fetch for made-up kids
        forged = tenant.token(kid="made-up", key=new_key())
        assert alerts.post(samples.vm(), token=None, bearer=forged).status == 401
    assert tenant.fetches == fetched + 1


def test_not_the_schema_is_400_and_a_huge_body_413(alerts: Alerts) -> None:
    before = alerts.count()
    assert alerts.post({"schemaId": "Microsoft.Insights/activityLogs", "data": {}}).status == 400
    assert alerts.post(b"<xml/>").status == 400
    doc = samples.vm()
    doc["data"]["essentials"]["description"] = "x" * (300 * 1024)
    assert alerts.post(doc).status == 413
    assert alerts.count() == before
    assert alerts.bot.alive()


def test_other_alerts_are_202_counted_and_not_stored(alerts: Alerts) -> None:
    before = alerts.count()
    for doc in (samples.metric(), samples.vm(vault=samples.OTHER_VAULT)):
        assert alerts.post(doc).status == 202
    assert alerts.count() == before
    metrics = alerts.client.get("/metrics").body.decode()
    assert 'backup_fix_alerts_dropped_total{reason="not_backup"} 1.0' in metrics
    assert 'backup_fix_alerts_dropped_total{reason="out_of_scope"} 1.0' in metrics


def test_only_post(alerts: Alerts) -> None:
    assert alerts.client.get(f"{PATH}?token={TOKEN}").status == 405


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"BACKUP_FIX_ALERT_TOKEN": "short"}, "BACKUP_FIX_ALERT_TOKEN"),
        ({"BACKUP_FIX_ALERT_TENANT_ID": "contoso.onmicrosoft.com"}, "BACKUP_FIX_ALERT_TENANT_ID"),
        (
            {"BACKUP_FIX_ALERT_TENANT_ID": "0f0f0f0f-1111-2222-3333-444444444444"},
            "BACKUP_FIX_ALERT_AUDIENCE",
        ),
        ({"BACKUP_FIX_ALERT_JWKS_URL": "http://127.0.0.1/keys"}, "BACKUP_FIX_ALERT_JWKS_URL"),
    ],
)
def test_a_bad_alert_setting_stops_serve_naming_it(
    fake: FakeSlack, tmp_path: Path, extra: dict[str, str], variable: str
) -> None:
    env = bot_env(fake, sqlite_url(tmp_path), **extra)
    done = run_to_exit(env, ("serve", "--http", "--host", "127.0.0.1", "--port", "0"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert variable in lines[0]
    if variable == "BACKUP_FIX_ALERT_TOKEN":
        assert "short" not in done.stderr  # a secret, even a bad one, is not echoed
