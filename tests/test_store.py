"""The state store on SQLite, and on PostgreSQL when BACKUP_FIX_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from store import Store, StoreError, normalise_url, open_store
from store.schema import head


@pytest.fixture
def url(db_url: str) -> str:
    """A fresh SQLite or PostgreSQL database (tests/conftest.py)."""
    return db_url


def test_migrate_creates_tables_and_is_idempotent(url: str) -> None:
    store = open_store(url)
    names = set(inspect(store.engine).get_table_names())
    assert {"alembic_version", "processed_events", "answered", "feedback"} <= names
    assert store.migrate() == head()
    with store.engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head()]
    store.close()


def test_claim_event_is_first_only(url: str) -> None:
    store = open_store(url)
    assert store.claim_event("Ev1") is True
    assert store.claim_event("Ev1") is False
    assert store.claim_event("Ev2") is True
    store.close()


def test_claim_event_survives_restart(url: str) -> None:
    first = open_store(url)
    assert first.claim_event("EvR")
    first.close()
    second = open_store(url)
    assert second.claim_event("EvR") is False
    second.close()


def test_claim_event_is_atomic_under_threads(url: str) -> None:
    store = open_store(url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: store.claim_event("EvT"), range(40)))
    assert results.count(True) == 1
    store.close()


def test_claim_event_is_atomic_across_processes(url: str) -> None:
    open_store(url).close()
    code = (
        "import sys; from store import Store; s = Store(sys.argv[1]);"
        "print(sum(s.claim_event(f'EvP{i}') for i in range(30))); s.close()"
    )
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url], stdout=subprocess.PIPE, text=True, env=env, cwd=root
        )
        for _ in range(3)
    ]
    wins = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(wins) == 30


def test_claim_answer_per_channel_thread_code(url: str) -> None:
    store = open_store(url)
    assert store.claim_answer("C1", "1.0", "UserErrorX")
    assert not store.claim_answer("C1", "1.0", "UserErrorX")
    assert store.claim_answer("C1", "1.0", "UserErrorY")
    assert store.claim_answer("C1", "2.0", "UserErrorX")
    assert store.claim_answer("C2", "1.0", "UserErrorX")
    store.close()


def test_feedback_is_counted_per_code(url: str) -> None:
    store = open_store(url)
    store.record_feedback(code="A1234", paste_hash="h" * 64, user="U1", helpful=True)
    store.record_feedback(code="A1234", paste_hash="h" * 64, user="U2", helpful=False)
    store.record_feedback(code="A1234", paste_hash="g" * 64, user="U3", helpful=True)
    assert store.feedback_counts("A1234") == (2, 1)
    assert store.feedback_counts("B1234") == (0, 0)
    store.close()


def test_prune_forgets_only_old_events(url: str) -> None:
    from datetime import timedelta

    store = open_store(url)
    store.claim_event("EvOld")
    assert store.prune_events(older_than=timedelta(days=1)) == 0
    assert store.prune_events(older_than=timedelta(seconds=-1)) == 1
    assert store.claim_event("EvOld") is True
    store.close()


def test_postgres_url_gets_psycopg_driver() -> None:
    assert normalise_url("postgresql://u@h:5432/d").startswith("postgresql+psycopg://")
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize("bad", ["not a url", "mysql://u@h/d"])
def test_bad_url_is_a_store_error(bad: str) -> None:
    with pytest.raises(StoreError):
        Store(bad)
