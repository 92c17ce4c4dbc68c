"""Which PostgreSQL the tests use, and what happens when it is not there.

``BACKUP_FIX_TEST_POSTGRES_URL`` unset: the PostgreSQL tests skip, saying so. Set but nothing
answers: they skip with the connection error as the reason, unless
``BACKUP_FIX_TEST_POSTGRES_REQUIRED`` is set (``.ci/run`` sets it), in which case every one of
them fails loudly: CI must not turn green because its database was down.
"""

from __future__ import annotations

import os
from functools import cache

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from store import normalise_url

ENV = "BACKUP_FIX_TEST_POSTGRES_URL"
REQUIRED_ENV = "BACKUP_FIX_TEST_POSTGRES_REQUIRED"


@cache
def _unreachable(url: str) -> str | None:
    """Why ``url`` cannot be used, or None when a connection answers (probed once per run)."""
    engine = create_engine(normalise_url(url), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return str(exc.orig or exc).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None


def postgres_url() -> str:
    """The test PostgreSQL's URL; skips (or, when required, fails) when there is none."""
    url = os.environ.get(ENV, "").strip()
    required = bool(os.environ.get(REQUIRED_ENV, "").strip())
    if not url:
        if required:
            pytest.fail(f"{REQUIRED_ENV} is set but {ENV} is not")
        pytest.skip(f"PostgreSQL: set {ENV} to run these")
    problem = _unreachable(url)
    if problem is not None:
        message = f"PostgreSQL at {ENV} does not answer: {problem}"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    return url
