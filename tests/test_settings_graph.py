"""BACKUP_FIX_SCOPES, BACKUP_FIX_POLL_MINUTES and AZURE_RESOURCE_GRAPH_ENDPOINT: parsed, defaulted,
and a bad value stops ``serve`` at start with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from actions.graph import Scopes
from bot.settings import SettingsError, load_settings

SUB = "11111111-2222-3333-4444-555555555555"


def test_scopes_and_the_poll_default() -> None:
    unset = load_settings(BACKUP_FIX_SCOPES="", BACKUP_FIX_POLL_MINUTES="")
    assert (unset.graph_scopes, unset.poll_every) == (Scopes(), 0)
    s = load_settings(BACKUP_FIX_SCOPES=f" {SUB.upper()} , mg:Contoso ")
    assert s.graph_scopes == Scopes((SUB,), ("Contoso",))
    assert s.poll_every == 10
    assert load_settings(BACKUP_FIX_SCOPES=SUB, BACKUP_FIX_POLL_MINUTES="0").poll_every == 0
    assert load_settings(BACKUP_FIX_SCOPES=SUB, BACKUP_FIX_POLL_MINUTES="3").poll_every == 3
    url = load_settings(AZURE_RESOURCE_GRAPH_ENDPOINT=" https://127.0.0.1:8443 ")
    assert url.resource_graph_endpoint == "https://127.0.0.1:8443"


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"BACKUP_FIX_SCOPES": "/subscriptions/x"}, "BACKUP_FIX_SCOPES"),
        ({"BACKUP_FIX_SCOPES": "mg:"}, "BACKUP_FIX_SCOPES"),
        ({"BACKUP_FIX_SCOPES": SUB, "BACKUP_FIX_POLL_MINUTES": "ten"}, "BACKUP_FIX_POLL_MINUTES"),
        ({"BACKUP_FIX_SCOPES": SUB, "BACKUP_FIX_POLL_MINUTES": "-1"}, "BACKUP_FIX_POLL_MINUTES"),
        ({"BACKUP_FIX_POLL_MINUTES": "5"}, "BACKUP_FIX_POLL_MINUTES"),
        ({"AZURE_RESOURCE_GRAPH_ENDPOINT": "http://graph"}, "AZURE_RESOURCE_GRAPH_ENDPOINT"),
    ],
)
def test_a_bad_value_names_its_variable(values: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**values)
    assert caught.value.variable == variable


def test_serve_stops_at_start_on_a_bad_scope() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_FIX_", "SLACK_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", BACKUP_FIX_SCOPES="prod")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--http", "--port", "0"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("backup-fix: BACKUP_FIX_SCOPES: 'prod' is not")
