"""Settings: defaults, parsing, and one-line errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

ENV_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "BACKUP_FIX_DATABASE_URL",
    "BACKUP_FIX_APPROVERS",
    "BACKUP_FIX_VAULTS",
    "BACKUP_FIX_ENABLED_ACTIONS",
    "BACKUP_FIX_CHANNELS",
    "AZURE_CLOUD",
    "AZURE_ARM_ENDPOINT",
    "REQUESTS_CA_BUNDLE",
)
VAULT = "/subscriptions/0000/resourceGroups/rg1/providers/Microsoft.RecoveryServices/vaults/vault1"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    s = load_settings()
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.database_url == "sqlite:///backup-fix.db"
    assert s.channels == ()
    assert s.approvers == ()
    assert s.enabled_actions == ()
    assert s.azure_cloud == "AzureCloud"
    assert s.answers_in("C123")


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "sec")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("BACKUP_FIX_CHANNELS", " C1, G2 ,")
    monkeypatch.setenv("BACKUP_FIX_APPROVERS", "U1,W2,S3")
    monkeypatch.setenv("BACKUP_FIX_ENABLED_ACTIONS", "trigger_backup")
    monkeypatch.setenv("BACKUP_FIX_VAULTS", VAULT)
    s = load_settings()
    assert s.bot_token() == "xoxb-1"
    assert s.slack_api_url == "http://127.0.0.1:9/api/"
    assert s.channels == ("C1", "G2")
    assert s.approvers == ("U1", "W2", "S3")
    assert s.enabled_actions == ("trigger_backup",)
    assert s.vaults == (VAULT,)
    assert s.answers_in("G2")
    assert not s.answers_in("C9")


def test_secrets_are_hidden_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-very-secret")
    text = repr(load_settings()) + str(load_settings())
    assert "very-secret" not in text


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-wrong", "xapp-"),
        ("SLACK_API_URL", "slack.com/api", "http(s) URL"),
        ("BACKUP_FIX_DATABASE_URL", "mysql://u@h/d", "unsupported"),
        ("BACKUP_FIX_CHANNELS", "general", "channel ID"),
        ("BACKUP_FIX_APPROVERS", "alice", "user"),
        ("BACKUP_FIX_ENABLED_ACTIONS", "rm_rf", "one of"),
        ("BACKUP_FIX_VAULTS", "/subscriptions/x", "vault"),
        ("AZURE_CLOUD", "Mars", "AzureCloud"),
        ("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem", "no such file"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    line = str(info.value)
    assert line.startswith(f"{variable}: ")
    assert needle in line
    assert "\n" not in line


def test_serve_needs_a_bot_token() -> None:
    with pytest.raises(SettingsError, match=r"^SLACK_BOT_TOKEN: required for serve$"):
        load_settings().check_serve()


def test_http_mode_needs_the_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(SettingsError, match=r"^SLACK_SIGNING_SECRET: required in HTTP mode$"):
        load_settings().check_serve()


def test_socket_mode_needs_no_signing_secret_unless_forced_to_http(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    s = load_settings()
    s.check_serve()
    assert s.socket_mode()
    assert not s.socket_mode(force_http=True)
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        s.check_serve(force_http=True)


def test_blank_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    s = load_settings()
    assert s.slack_app_token is None
    assert s.requests_ca_bundle is None


def test_ca_bundle_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert load_settings().requests_ca_bundle == bundle


def test_serve_exits_2_with_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BACKUP_FIX_"))}
    env |= {"PYTHONPATH": str(root), "SLACK_BOT_TOKEN": "xoxb-1"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--http", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "backup-fix: SLACK_SIGNING_SECRET: required in HTTP mode"
    ]


def test_settings_is_the_only_reader_of_the_environment() -> None:
    root = Path(__file__).resolve().parent.parent / "bot"
    readers = [p.name for p in root.rglob("*.py") if "os.environ" in p.read_text(encoding="utf-8")]
    assert readers == []
    assert isinstance(Settings.model_fields["slack_bot_token"].validation_alias, str)


def test_blank_urls_take_their_own_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", " ")
    monkeypatch.setenv("AZURE_ARM_ENDPOINT", "")
    s = load_settings()
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.azure_arm_endpoint is None  # the cloud's own, never Slack's
