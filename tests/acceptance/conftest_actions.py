"""Fixtures for the Azure action tests: fake ARM + fake MSI + fake Slack + the real bot, together.

Each test gets its own world (fresh fakes, fresh database) so that faults, state changes and
recorded calls of one test never reach another. Test modules import the fixtures
(``*_fixture``) from here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from actions.approvals import ApprovalRequest, Status
from actions.ledger import Ledger
from store import Store, normalise_url, open_store
from tests.acceptance.actions_helpers import (
    APPROVE,
    ActionSlack,
    Click,
    Driver,
    Msg,
    diagnose,
    poll,
    request,
)
from tests.fakes.arm import FakeArm
from tests.fakes.botproc import BotProcess, run_to_exit
from tests.fakes.msi import FakeMsi
from tests.postgres_target import postgres_url

SECRET = "acceptance-signing-secret"
SIGNING_KEY = "5f" * 32  # BACKUP_FIX_SIGNING_KEY (hex): binds approvals, keys the audit chain
PG_ENV = "BACKUP_FIX_TEST_POSTGRES_URL"

SUB = "6f1c2e7a-0000-4000-8000-0000000000a1"
VAULT_RG, VAULT = "rg-backup", "vault-prod"
APP_RG, VM, OTHER_VM = "rg-app", "vm-app-01", "vm-app-02"
RP_RG = "AzureBackupRG_eastasia_1"
LOCK, LOCK_LEVEL, LOCK_NOTES = "keep-restore-points", "CanNotDelete", "Platform team lock OPS-42"
ROGUE_RG, ROGUE_VAULT, ROGUE_VM = "rg-other", "vault-other", "vm-rogue"
AGENT_VERSION = "2.7.41491.1102"
JOB_MESSAGE = "The VMSnapshot extension operation failed on the virtual machine."
SNAPSHOT_MESSAGE = "VMSnapshot extension failed: access denied"
SNAPSHOT_FAILED = "ProvisioningState/failed/-2147024891"
JOB_ADVICE = "Remove the failed VMSnapshot extension and retry the backup."

CHANNEL = "COPS"
REQUESTER, APPROVER1, APPROVER2 = "UREQ1", "UAPPROVER1", "UAPPROVER2"
GROUP, GROUP_MEMBER, OUTSIDER = "S0OPS", "UOPSMEMBER", "URANDOM"
ALL_ACTIONS = (
    "trigger_backup",
    "cancel_job",
    "remove_snapshot_extension",
    "remove_rg_lock",
    "delete_restore_point_collection",
    "resume_protection",
)
# A paste whose entry offers the action (checked against the knowledge base in a test).
CODE_FOR = {
    "vm_agent_status": "BackUpOperationFailed",
    "job_details": "BackUpOperationFailed",
    "locks": "BackUpOperationFailed",
    "restore_points": "BackUpOperationFailed",
    "protection_status": "AzureVmOffline",
    "trigger_backup": "BackUpOperationFailed",
    "remove_snapshot_extension": "BackUpOperationFailed",
    "remove_rg_lock": "BackUpOperationFailed",
    "cancel_job": "UserErrorBackupOperationInProgress",
    "resume_protection": "UserErrorBcmDatasourceNotPresent",
    "delete_restore_point_collection": "UserErrorRpCollectionLimitReached",
}
# The diagnostic whose report suggests a remediation, when the answer itself has no button for it.
SUGGESTED_BY = {
    "trigger_backup": "job_details",
    "cancel_job": "job_details",
    "remove_snapshot_extension": "vm_agent_status",
    "remove_rg_lock": "locks",
    "delete_restore_point_collection": "restore_points",
    "resume_protection": "protection_status",
}


@dataclass
class Ids:
    """The resource ids of the populated model."""

    vault: str = ""
    vm: str = ""
    item: str = ""
    other_vm: str = ""
    rogue_vault: str = ""
    rogue_vm: str = ""
    failed_job: str = ""
    running_job: str = ""
    collections: list[str] = field(default_factory=list)
    lock: str = ""


class World:
    """The fakes of one test and the bots started against them."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.arm = FakeArm(page_size=2).start()
        self.msi = FakeMsi().start()
        self.slack = ActionSlack()
        self.slack.start()
        self.slack.usergroups[GROUP] = [GROUP_MEMBER, "USOMEONE"]
        self.ids = Ids()
        self.bots: list[BotProcess] = []
        self._stores: dict[str, Store] = {}

    def populate(
        self,
        *,
        snapshot_failed: bool = True,
        lock: bool = True,
        points: tuple[int, ...] = (11, 4),
        state: str = "Protected",
        running_job: bool = False,
    ) -> Ids:
        """The default Azure: one configured vault protecting two VMs, and a vault that is not."""
        arm, ids = self.arm, self.ids
        ids.vault = arm.add_vault(SUB, VAULT_RG, VAULT)
        ids.vm = arm.add_vm(
            SUB,
            APP_RG,
            VM,
            agent_version=AGENT_VERSION,
            snapshot_code=SNAPSHOT_FAILED if snapshot_failed else "ProvisioningState/succeeded",
            snapshot_message=SNAPSHOT_MESSAGE if snapshot_failed else "",
        )
        ids.item = arm.protect(
            ids.vault,
            ids.vm,
            state=state,
            health="ActionRequired",
            last_status="Unhealthy",
            policy_id=f"{ids.vault}/backupPolicies/DailyPolicy",
        )
        ids.failed_job = arm.add_job(
            ids.vault,
            VM,
            status="Failed",
            error_code=400001,
            error_title="BackUpOperationFailed",
            error_string=JOB_MESSAGE,
            recommendations=(JOB_ADVICE,),
            start=datetime.now(UTC) - timedelta(hours=3),
        )
        if running_job:
            ids.running_job = arm.add_job(
                ids.vault,
                VM,
                status="InProgress",
                tasks=(("Take Snapshot", "InProgress"),),
                start=datetime.now(UTC) - timedelta(minutes=20),
            )
        ids.other_vm = arm.add_vm(SUB, APP_RG, OTHER_VM)
        arm.protect(ids.vault, ids.other_vm)
        ids.collections = [
            arm.add_restore_point_collection(
                SUB, RP_RG, f"AzureBackup_{VM}_{n}", source_vm_id=ids.vm, points=count
            )
            for n, count in enumerate(points)
        ]
        if lock:
            ids.lock = arm.add_lock(SUB, RP_RG, LOCK, level=LOCK_LEVEL, notes=LOCK_NOTES)
        ids.rogue_vault = arm.add_vault(SUB, ROGUE_RG, ROGUE_VAULT)
        ids.rogue_vm = arm.add_vm(SUB, ROGUE_RG, ROGUE_VM)
        arm.protect(ids.rogue_vault, ids.rogue_vm, health="ActionRequired")
        arm.add_job(ids.rogue_vault, ROGUE_VM, error_code=1, error_string=JOB_MESSAGE)
        return ids

    def sqlite_url(self) -> str:
        """A fresh SQLite store in the test's folder."""
        return f"sqlite:///{self.tmp / 'state.db'}"

    def env(self, db_url: str, **extra: str) -> dict[str, str]:
        """The bot's environment: Slack fake, ARM fake over HTTPS, MSI fake, the store."""
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "BACKUP_FIX_DATABASE_URL": db_url,
            "BACKUP_FIX_VAULTS": self.ids.vault,
            "BACKUP_FIX_APPROVERS": f"{APPROVER1},{APPROVER2},{GROUP}",
            "BACKUP_FIX_ENABLED_ACTIONS": ",".join(ALL_ACTIONS),
            "BACKUP_FIX_SIGNING_KEY": SIGNING_KEY,
            "AZURE_ARM_ENDPOINT": self.arm.url,
            "AZURE_CLOUD": "AzureCloud",
            "IDENTITY_ENDPOINT": self.msi.endpoint,
            "IDENTITY_HEADER": self.msi.secret,
            "AZURE_TOKEN_CREDENTIALS": "ManagedIdentityCredential",
            "REQUESTS_CA_BUNDLE": self.arm.ca_bundle,
            "BACKUP_FIX_AZURE_POLLING_INTERVAL": "0",
            "BACKUP_FIX_AZURE_READ_TIMEOUT": "2",
            # Retries of a 5xx or a timeout come at once; a Retry-After is still honoured.
            "BACKUP_FIX_AZURE_RETRY_BACKOFF": "0.05",
        }
        env.update(extra)
        return env

    def start_bot(self, db_url: str | None = None, **extra: str) -> Driver:
        """Start one more bot process on ``db_url`` (default: the test's SQLite file)."""
        proc = BotProcess(self.env(db_url or self.sqlite_url(), **extra)).start()
        self.bots.append(proc)
        return Driver(self.slack, proc, SECRET)

    def cli(self, db_url: str, *args: str) -> Any:
        """Run ``backup-fix <args>`` against the store to completion."""
        return run_to_exit(self.env(db_url), args)

    def ledger(self, db_url: str) -> Ledger:
        """The approvals and audit trail in the bot's store (read as an operator would)."""
        if db_url not in self._stores:
            self._stores[db_url] = open_store(db_url)
        return Ledger(self._stores[db_url])

    def stop(self) -> None:
        """Stop every bot, then the fakes."""
        for proc in self.bots:
            proc.stop()
        for store in self._stores.values():
            store.close()
        self.slack.stop()
        self.arm.stop()
        self.msi.stop()


@pytest.fixture(name="world")
def world_fixture(tmp_path: Path) -> Iterator[World]:
    """Fresh fakes for one test (the model is filled by ``World.populate``)."""
    w = World(tmp_path)
    yield w
    w.stop()


@pytest.fixture(
    name="store_url",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def store_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store: a SQLite file, or a new schema in the PostgreSQL of ``PG_ENV``."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    url = postgres_url()
    yield from _pg_schema(url)


@pytest.fixture(name="pg_url")
def pg_url_fixture() -> Iterator[str]:
    """A fresh schema in the PostgreSQL of ``PG_ENV`` (skips when unset)."""
    url = postgres_url()
    yield from _pg_schema(url)


def _pg_schema(url: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    # search_path keeps this test's tables apart without the bot knowing about schemas.
    yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# -- flows ----------------------------------------------------------------------------------------


def open_thread(bot: Driver, code: str, *, vm_id: str, user: str = REQUESTER) -> str:
    """Paste an error naming the VM; the thread's root ts once the bot has answered there and
    shown the VM's latest failed job (so the thread knows its VM before anyone clicks)."""
    root = bot.paste(f"Backup of {vm_id} failed: {code}", channel=CHANNEL, user=user)
    bot.wait_thread(CHANNEL, root, lambda m: code in m.all_text(), what=f"answer for {code}")
    bot.wait_thread(CHANNEL, root, lambda m: JOB_MESSAGE in m.all_text(), what="the job's error")
    return root


def request_button(bot: Driver, root: str, action: str) -> tuple[Msg, dict[str, Any]]:
    """The request button of ``action`` in the thread; via its diagnostic's report if needed."""
    try:
        return bot.find(CHANNEL, root, request(action), timeout=8)
    except AssertionError:
        msg, button = bot.find(CHANNEL, root, diagnose(SUGGESTED_BY[action]), timeout=5)
        bot.click(msg, button, user=REQUESTER)
        return bot.find(CHANNEL, root, request(action), timeout=30)


def ask(bot: Driver, root: str, action: str, *, user: str = REQUESTER) -> tuple[Msg, Click]:
    """Click ``action``'s request button as ``user``; the approval card it posted."""
    before = {m.ts for m in bot.thread(CHANNEL, root) if m.element(APPROVE) is not None}
    msg, button = request_button(bot, root, action)
    click = bot.click(msg, button, user=user)
    assert click.status == 200, click.body
    card = bot.wait_thread(
        CHANNEL,
        root,
        lambda m: m.element(APPROVE) is not None and m.ts not in before and m.private_to is None,
        what=f"approval card for {action}",
    )
    return card, click


def request_of(world: World, db_url: str, card: Msg) -> ApprovalRequest:
    """The stored request whose id the card's Approve button carries."""
    approve = card.element(APPROVE)
    assert approve is not None
    value = str(approve.get("value", ""))
    found = [r for r in all_requests(world, db_url) if r.id in value]
    assert len(found) == 1, f"no single stored request in the Approve value {value!r}"
    return found[0]


def all_requests(world: World, db_url: str) -> list[ApprovalRequest]:
    """Every stored approval request."""
    return world.ledger(db_url).with_status(*Status)


def wait_status(
    world: World, db_url: str, request_id: str, *wanted: Status, timeout: float = 60.0
) -> ApprovalRequest:
    """Wait until the stored request reaches one of ``wanted``."""

    def check() -> ApprovalRequest | None:
        found = world.ledger(db_url).get(request_id)
        return found if found is not None and found.status in wanted else None

    found = poll(check, timeout, interval=0.1)
    if found is None:
        now = world.ledger(db_url).get(request_id)
        raise AssertionError(f"request {request_id} not {wanted} in {timeout}s: {now}")
    assert isinstance(found, ApprovalRequest)
    return found


def card_now(bot: Driver, root: str, card: Msg) -> Msg:
    """The approval card as it reads now (after the bot's edits)."""
    return next(m for m in bot.thread(CHANNEL, root) if m.ts == card.ts)
