"""The store's schema under Alembic: from an empty database, from the old runner's databases at
each of its versions, replicas starting together, offline SQL, and the ``db`` commands.

The old runner's DDL is kept below as data (what it ran, step by step, on SQLite and PostgreSQL):
its code is gone, and these tests must not depend on it.
"""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

from bot.cli import main
from store import StoreError, metadata, normalise_url, open_store
from store.schema import MIGRATIONS_DIR, config, head, offline_sql

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 1, 1, tzinfo=UTC)

# What the hand-written runner created, version by version; {ts} and {serial} are the dialect's
# names for DateTime(timezone=True) and an autoincrementing integer key.
LEGACY_VERSION_TABLE = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at {ts} NOT NULL,"
    " PRIMARY KEY (version))"
)
LEGACY_STEPS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE processed_events (event_id VARCHAR(64) NOT NULL,"
        " first_seen_at {ts} NOT NULL, PRIMARY KEY (event_id))",
        "CREATE INDEX ix_processed_events_first_seen_at ON processed_events (first_seen_at)",
        "CREATE TABLE answered (channel VARCHAR(32) NOT NULL, thread_ts VARCHAR(32) NOT NULL,"
        " code VARCHAR(100) NOT NULL, answered_at {ts} NOT NULL,"
        " PRIMARY KEY (channel, thread_ts, code))",
        "CREATE TABLE feedback (id {serial} NOT NULL, code VARCHAR(100) NOT NULL,"
        " paste_hash VARCHAR(64) NOT NULL, user_id VARCHAR(32) NOT NULL,"
        " helpful BOOLEAN NOT NULL, at {ts} NOT NULL, PRIMARY KEY (id))",
        "CREATE INDEX ix_feedback_code ON feedback (code)",
    ),
    2: (
        "CREATE TABLE approvals (id VARCHAR(32) NOT NULL, action VARCHAR(64) NOT NULL,"
        ' params TEXT NOT NULL, "plan" TEXT NOT NULL, plan_hash VARCHAR(64) NOT NULL,'
        " requester VARCHAR(32) NOT NULL, channel VARCHAR(32) NOT NULL,"
        " thread_ts VARCHAR(32) NOT NULL, card_ts VARCHAR(32), status VARCHAR(16) NOT NULL,"
        " created_at {ts} NOT NULL, expires_at {ts} NOT NULL, decided_by VARCHAR(32),"
        " decided_at {ts}, outcome TEXT NOT NULL, PRIMARY KEY (id))",
        "CREATE INDEX ix_approvals_status ON approvals (status)",
        "CREATE TABLE audit (seq {serial} NOT NULL, prev_seq INTEGER NOT NULL,"
        " at VARCHAR(40) NOT NULL, actor VARCHAR(64) NOT NULL, event VARCHAR(32) NOT NULL,"
        " request_id VARCHAR(32), action VARCHAR(64), plan_hash VARCHAR(64),"
        " correlation_id VARCHAR(128), detail TEXT NOT NULL, prev_hash VARCHAR(64) NOT NULL,"
        " hash VARCHAR(64) NOT NULL, PRIMARY KEY (seq), UNIQUE (prev_seq))",
        "CREATE INDEX ix_audit_at ON audit (at)",
    ),
    3: (
        "CREATE TABLE thread_vms (channel VARCHAR(32) NOT NULL, thread_ts VARCHAR(32) NOT NULL,"
        " vault_id VARCHAR(512) NOT NULL, vm_id VARCHAR(512) NOT NULL,"
        " chosen_by VARCHAR(32) NOT NULL, at {ts} NOT NULL, PRIMARY KEY (channel, thread_ts))",
    ),
    4: (
        "CREATE TABLE unmatched_pastes (id {serial} NOT NULL, paste_hash VARCHAR(64) NOT NULL,"
        " excerpt TEXT NOT NULL, best_code VARCHAR(100), best_score FLOAT,"
        " source VARCHAR(16) NOT NULL, channel VARCHAR(32) NOT NULL, at {ts} NOT NULL,"
        " PRIMARY KEY (id))",
        "CREATE INDEX ix_unmatched_pastes_paste_hash ON unmatched_pastes (paste_hash)",
        "CREATE INDEX ix_unmatched_pastes_at ON unmatched_pastes (at)",
    ),
    5: (
        "ALTER TABLE approvals ADD COLUMN runner VARCHAR(128)",
        "ALTER TABLE approvals ADD COLUMN heartbeat_at {ts}",
    ),
    6: ("ALTER TABLE approvals ADD COLUMN lang VARCHAR(8)",),
    7: ("ALTER TABLE unmatched_pastes ADD COLUMN unknown_codes VARCHAR(512)",),
    8: (
        "DELETE FROM feedback WHERE id NOT IN"
        " (SELECT min(id) FROM feedback GROUP BY code, paste_hash, user_id)",
        "CREATE UNIQUE INDEX ux_feedback_vote ON feedback (code, paste_hash, user_id)",
    ),
    9: (
        "CREATE TABLE alert_inbox (id {serial} NOT NULL, alert_id VARCHAR(512) NOT NULL,"
        " monitor_condition VARCHAR(16) NOT NULL, received_at {ts} NOT NULL,"
        " payload TEXT NOT NULL, status VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL,"
        " lease_until {ts}, last_error VARCHAR(500), PRIMARY KEY (id),"
        " CONSTRAINT ux_alert_inbox_alert UNIQUE (alert_id, monitor_condition))",
        "CREATE INDEX ix_alert_inbox_due ON alert_inbox (status, lease_until)",
    ),
}
VOTE = "INSERT INTO feedback (code, paste_hash, user_id, helpful, at) VALUES (:c, 'h', :u, :y, :at)"
APPROVAL = (
    'INSERT INTO approvals (id, action, params, "plan", plan_hash, requester, channel, thread_ts,'
    " status, created_at, expires_at, outcome) VALUES ('r1', 'trigger_backup', '{}', '{}', 'p',"
    " 'U1', 'C1', '1.0', 'pending', :at, :at, '{}')"
)


def build_legacy(url: str, version: int) -> None:
    """A database as the old runner left it at ``version``, with a few rows in it."""
    engine = create_engine(normalise_url(url))
    sqlite = engine.dialect.name == "sqlite"
    kinds = {"ts": "DATETIME", "serial": "INTEGER"}
    if not sqlite:
        kinds = {"ts": "TIMESTAMP WITH TIME ZONE", "serial": "SERIAL"}
    with engine.begin() as conn:
        conn.execute(text(LEGACY_VERSION_TABLE.format(**kinds)))
        for step in range(1, version + 1):
            for statement in LEGACY_STEPS[step]:
                conn.execute(text(statement.format(**kinds)))
            insert = text("INSERT INTO schema_version VALUES (:v, :at)")
            conn.execute(insert, {"v": step, "at": NOW})
        for user, helpful in [("U1", True), ("U2", True)] + ([("U1", False)] * (version < 8)):
            conn.execute(text(VOTE), {"c": "A1", "u": user, "y": helpful, "at": NOW})
        if version >= 2:
            conn.execute(text(APPROVAL), {"at": NOW})
    engine.dispose()


def differences(engine: Engine) -> list[object]:
    """What Alembic's autogenerate would change to make the database match ``metadata``."""
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_an_empty_database_gets_every_table_and_matches_the_metadata(db_url: str) -> None:
    store = open_store(db_url)
    try:
        assert tables(store.engine) == set(metadata.tables) | {"alembic_version"}
        assert differences(store.engine) == []
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (head(),)
    finally:
        store.close()


@pytest.mark.parametrize("version", range(1, 10))
def test_the_old_runners_database_is_adopted_at_its_version(db_url: str, version: int) -> None:
    build_legacy(db_url, version)
    store = open_store(db_url)
    try:
        assert tables(store.engine) == set(metadata.tables) | {"alembic_version"}
        assert differences(store.engine) == []
        assert store.feedback_counts("A1") == (2, 0)  # v8's rule: the first vote stands
        with store.engine.connect() as conn:
            approvals = conn.execute(text("SELECT id, lang FROM approvals")).all()
        assert [tuple(row) for row in approvals] == ([("r1", None)] if version >= 2 else [])
        assert store.migrate() == head()
    finally:
        store.close()


def test_a_version_the_old_runner_never_had_is_refused_and_left_alone(db_url: str) -> None:
    build_legacy(db_url, 9)
    engine = create_engine(normalise_url(db_url))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version VALUES (10, :at)"), {"at": NOW})
    with pytest.raises(StoreError, match="schema_version is at 10"):
        open_store(db_url)
    assert "schema_version" in tables(engine)
    assert "alembic_version" not in tables(engine)
    engine.dispose()


# A replica: ready once imported, migrates when the test says go, logs Alembic's steps.
REPLICA = """
import logging, sys
from store import Store
logging.basicConfig(level=logging.INFO, format="%(message)s")
store = Store(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
print(store.migrate(), flush=True)
store.close()
"""


def test_replicas_starting_together_migrate_once(db_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", REPLICA, db_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for _ in range(3)
    ]
    for replica in replicas:
        assert replica.stdout is not None
        assert replica.stdout.readline() == "ready\n"
    for replica in replicas:  # as close together as the test can make it
        assert replica.stdin is not None
        replica.stdin.write("go\n")
        replica.stdin.flush()
    outcomes = [replica.communicate(timeout=60) for replica in replicas]
    assert [r.returncode for r in replicas] == [0, 0, 0], [err for _, err in outcomes]
    assert [out for out, _ in outcomes] == [f"{head()}\n"] * 3
    ran = [err for _, err in outcomes if "-> 0001" in err]
    assert len(ran) == 1, [err for _, err in outcomes]  # one migrated, two found it done
    engine = create_engine(normalise_url(db_url))
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [v for (v,) in versions] == [head()]
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_every_revision_goes_down_and_up_again(db_url: str) -> None:
    store = open_store(db_url)
    try:
        with store.engine.begin() as conn:
            command.downgrade(config(connection=conn), "base")
        assert tables(store.engine) == {"alembic_version"}
        assert store.migrate() == head()
        assert differences(store.engine) == []
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "timestamp"),
    [("sqlite:///never-created.db", "DATETIME"), ("postgresql://u@db/x", "TIMESTAMP WITH TIME")],
)
def test_the_offline_sql_creates_every_table(
    url: str, timestamp: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    offline_sql(normalise_url(url), out)
    sql = out.getvalue()
    for name in [*metadata.tables, "alembic_version"]:
        assert f"CREATE TABLE {name} (" in sql, name
    assert timestamp in sql
    assert f"version_num='{head()}'" in sql
    assert list(tmp_path.iterdir()) == []  # offline: nothing was opened


def test_the_offline_sql_from_a_revision_holds_only_what_came_after() -> None:
    out = io.StringIO()
    offline_sql(normalise_url("postgresql://u@db/x"), out, start="0008")
    sql = out.getvalue()
    assert "CREATE TABLE alert_inbox" in sql
    assert "CREATE TABLE feedback" not in sql
    assert "CREATE TABLE alembic_version" not in sql
    assert "SET version_num='0009' WHERE alembic_version.version_num = '0008'" in sql


def test_db_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "state.db"
    monkeypatch.setenv("BACKUP_FIX_DATABASE_URL", f"sqlite:///{db}")
    assert main(["db", "current"]) == 0
    assert "no database yet" in capsys.readouterr().out
    assert not db.exists()  # a look creates nothing
    assert main(["db", "upgrade", "--sql"]) == 0
    assert "CREATE TABLE approvals" in capsys.readouterr().out
    assert not db.exists()
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"database at {head()} (head)\n"
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out == f"{head()} (head)\n"
    assert main(["db", "history"]) == 0
    listed = capsys.readouterr().out
    assert "<base> -> 0001" in listed
    assert f"-> {head()} (head)" in listed


def test_db_current_names_an_old_runners_version_and_upgrade_adopts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    build_legacy(url, 7)
    monkeypatch.setenv("BACKUP_FIX_DATABASE_URL", url)
    assert main(["db", "current"]) == 0
    assert "old schema_version 7" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{head()} (head)"


def test_db_commands_refuse_a_bad_url_and_a_stray_from(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKUP_FIX_DATABASE_URL", "mysql://u@h/d")
    assert main(["db", "current"]) == 2
    assert "BACKUP_FIX_DATABASE_URL" in capsys.readouterr().err
    monkeypatch.setenv("BACKUP_FIX_DATABASE_URL", "sqlite://")
    assert main(["db", "upgrade", "--from", "0008"]) == 2
    assert "--from" in capsys.readouterr().err


def test_the_revisions_form_one_line_each_named_by_its_id() -> None:
    script = ScriptDirectory.from_config(config())
    assert script.get_heads() == [head()]
    chain = [rev.revision for rev in script.walk_revisions("base", "heads")]
    assert chain == [f"{n:04d}" for n in range(len(chain), 0, -1)]
    files = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert [name[:4] for name in files] == sorted(chain)


def test_the_store_imports_nothing_of_the_rooms_above_it() -> None:
    above = ("bot", "actions", "knowledge", "incidents", "tests")
    for path in sorted((ROOT / "store").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in above, f"{path.relative_to(ROOT)} imports {name}"
