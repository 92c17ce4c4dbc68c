"""The PostgreSQL tests skip with a reason when there is no database, and fail when CI needs one."""

from __future__ import annotations

import socket

import pytest

from tests.postgres_target import ENV, REQUIRED_ENV, postgres_url


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


def test_unset_url_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv(REQUIRED_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="set BACKUP_FIX_TEST_POSTGRES_URL"):
        postgres_url()


def test_url_with_nothing_listening_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, f"postgresql://postgres@127.0.0.1:{_closed_port()}/test")
    monkeypatch.delenv(REQUIRED_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="does not answer"):
        postgres_url()


def test_required_and_down_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, f"postgresql://postgres@127.0.0.1:{_closed_port()}/test")
    monkeypatch.setenv(REQUIRED_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="does not answer"):
        postgres_url()


def test_required_without_url_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv(REQUIRED_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="is not"):
        postgres_url()
