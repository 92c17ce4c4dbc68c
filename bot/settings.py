"""The bot's configuration: one pydantic-settings class read from the environment (CONTRACT.md).

Built only in the entry point and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from actions.graph import Scopes
from actions.names import REMEDIATIONS

CommaList = Annotated[tuple[str, ...], NoDecode]

_USER_OR_GROUP = re.compile(r"^[UWS][A-Z0-9]+$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]+$")
_EMOJI = re.compile(r"^[a-z0-9_+\-']{1,100}$")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_URL_SAFE = re.compile(r"^[A-Za-z0-9._~-]{16,512}$")  # survives a URL without escaping
_VAULT = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.RecoveryServices/vaults/[^/]+$",
    re.IGNORECASE,
)


class SettingsError(Exception):
    """A bad or missing setting; ``str()`` is the one line printed at start."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


def _split(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value)


class Settings(BaseSettings):
    """Every environment variable of CONTRACT.md, validated."""

    model_config = SettingsConfigDict(
        case_sensitive=False, populate_by_name=True, extra="ignore", frozen=True
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    database_url: str = Field("sqlite:///backup-fix.db", validation_alias="BACKUP_FIX_DATABASE_URL")
    approvers: CommaList = Field((), validation_alias="BACKUP_FIX_APPROVERS")
    vaults: CommaList = Field((), validation_alias="BACKUP_FIX_VAULTS")
    enabled_actions: CommaList = Field((), validation_alias="BACKUP_FIX_ENABLED_ACTIONS")
    channels: CommaList = Field((), validation_alias="BACKUP_FIX_CHANNELS")
    # Where Azure features (VM menu, diagnostics, requests, approvals) work; empty: everywhere.
    action_channels: CommaList = Field((), validation_alias="BACKUP_FIX_ACTION_CHANNELS")
    # Keys the approval-to-plan binding and the audit chain; never stored in the database.
    signing_key: SecretStr | None = Field(None, validation_alias="BACKUP_FIX_SIGNING_KEY")
    azure_cloud: Literal["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"] = Field(
        "AzureCloud", validation_alias="AZURE_CLOUD"
    )
    azure_arm_endpoint: str | None = Field(None, validation_alias="AZURE_ARM_ENDPOINT")
    # Resource Graph (the pull path): where it looks, how often it polls, its URL (tests).
    scopes: CommaList = Field((), validation_alias="BACKUP_FIX_SCOPES")
    poll_minutes: int | None = Field(
        None, ge=0, le=1440, validation_alias="BACKUP_FIX_POLL_MINUTES"
    )
    resource_graph_endpoint: str | None = Field(
        None, validation_alias="AZURE_RESOURCE_GRAPH_ENDPOINT"
    )
    requests_ca_bundle: Path | None = Field(None, validation_alias="REQUESTS_CA_BUNDLE")
    # POST /azure/alerts (issue 10): a URL secret, and/or Entra ID secure webhooks.
    alert_token: SecretStr | None = Field(None, validation_alias="BACKUP_FIX_ALERT_TOKEN")
    alert_tenant_id: str | None = Field(None, validation_alias="BACKUP_FIX_ALERT_TENANT_ID")
    alert_audience: CommaList = Field((), validation_alias="BACKUP_FIX_ALERT_AUDIENCE")
    alert_jwks_url: str | None = Field(None, validation_alias="BACKUP_FIX_ALERT_JWKS_URL")
    # The incident flow: where incidents go (a default channel, scope=channel routes) and the
    # daily digest (HH:MM UTC; its channel, else the alert channel). No channel: no posting.
    alert_channel: str | None = Field(None, validation_alias="BACKUP_FIX_ALERT_CHANNEL")
    alert_routes: CommaList = Field((), validation_alias="BACKUP_FIX_ALERT_ROUTES")
    digest_time: str | None = Field(None, validation_alias="BACKUP_FIX_DIGEST_TIME")
    digest_channel: str | None = Field(None, validation_alias="BACKUP_FIX_DIGEST_CHANNEL")
    approval_ttl_minutes: int = Field(
        30, ge=1, le=1440, validation_alias="BACKUP_FIX_APPROVAL_TTL_MINUTES"
    )
    azure_polling_interval: float = Field(
        30.0, ge=0, le=600, validation_alias="BACKUP_FIX_AZURE_POLLING_INTERVAL"
    )
    azure_read_timeout: float = Field(
        60.0, gt=0, le=600, validation_alias="BACKUP_FIX_AZURE_READ_TIMEOUT"
    )
    # Resource Manager retries: the first at once, the n-th after factor * 2^(n-1) seconds (a
    # Retry-After from Azure wins).
    azure_retry_backoff: float = Field(
        0.8, ge=0, le=60, validation_alias="BACKUP_FIX_AZURE_RETRY_BACKOFF"
    )
    # A running request whose replica has not renewed its lease for this long is taken as
    # interrupted and settled by another; renewed every fifth of it, looked for every 0.3 of it.
    lease_seconds: float = Field(10.0, ge=1, le=600, validation_alias="BACKUP_FIX_LEASE_SECONDS")
    # Days unmatched pastes, votes, answered threads and thread VMs are kept (not the audit trail).
    retention_days: int = Field(90, ge=1, le=3650, validation_alias="BACKUP_FIX_RETENTION_DAYS")
    # The knowledge base's folder (articles.yaml, entries/, sections/); None: the shipped one.
    kb_dir: Path | None = Field(None, validation_alias="BACKUP_FIX_KB_DIR")
    # HTTP mode: /healthz, /readyz and /metrics on this port only (0: any free one); None: on
    # the main port beside /slack/events.
    probe_port: int | None = Field(None, ge=0, le=65535, validation_alias="BACKUP_FIX_PROBE_PORT")
    # The reaction that asks for an explanation of a message (needs reactions:read); None: off.
    explain_emoji: str | None = Field(None, validation_alias="BACKUP_FIX_EXPLAIN_EMOJI")
    # A new approval card mentions the approvers (groups and users) so Slack notifies them.
    notify_approvers: bool = Field(True, validation_alias="BACKUP_FIX_NOTIFY_APPROVERS")

    @field_validator(
        "slack_bot_token", "slack_signing_secret", "slack_app_token", "signing_key", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("signing_key")
    @classmethod
    def _signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_key(value.get_secret_value())  # raises ValueError naming the problem
        return value

    @field_validator("slack_api_url", "azure_arm_endpoint")
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():  # blank: the variable's own default
            default = cls.model_fields[str(info.field_name)].default
            return default if isinstance(default, str) else None
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an http(s) URL, not {value!r}")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from store import StoreError, normalise_url

        try:
            normalise_url(value.strip() or "sqlite:///backup-fix.db")
        except StoreError as exc:
            raise ValueError(str(exc)) from exc
        return value.strip() or "sqlite:///backup-fix.db"

    @field_validator(
        "approvers", "vaults", "enabled_actions", "channels", "action_channels", mode="before"
    )
    @classmethod
    def _comma_list(cls, value: Any) -> tuple[str, ...]:
        return _split(value)

    @field_validator("approvers")
    @classmethod
    def _approvers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _each(value, _USER_OR_GROUP.match, "a Slack user (U…/W…) or user-group (S…) ID")

    @field_validator("channels", "action_channels")
    @classmethod
    def _channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _each(value, _CHANNEL.match, "a Slack channel ID (C…/G…)")

    @field_validator("vaults")
    @classmethod
    def _vaults(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _each(value, _VAULT.match, "a Recovery Services vault resource ID")

    @field_validator("enabled_actions")
    @classmethod
    def _actions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _each(value, REMEDIATIONS.__contains__, f"one of {', '.join(REMEDIATIONS)}")

    @field_validator(
        "approval_ttl_minutes",
        "azure_polling_interval",
        "azure_read_timeout",
        "azure_retry_backoff",
        "lease_seconds",
        "probe_port",
        "retention_days",
        mode="before",
    )
    @classmethod
    def _blank_is_default(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("explain_emoji", mode="before")
    @classmethod
    def _emoji(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        name = value.strip().strip(":").lower()
        if not name:
            return None
        if not _EMOJI.match(name):
            raise ValueError(f"{value!r} is not an emoji name (like backup-fix or :mag:)")
        return name

    @field_validator("notify_approvers", mode="before")
    @classmethod
    def _notify(cls, value: Any) -> Any:
        return True if isinstance(value, str) and not value.strip() else value

    @field_validator("kb_dir", mode="before")
    @classmethod
    def _kb_dir(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if value is not None and not Path(value).is_dir():
            raise ValueError(f"no such folder: {value}")
        return value

    @field_validator("requests_ca_bundle", mode="before")
    @classmethod
    def _ca_bundle(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if value is not None and not Path(value).is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("alert_token", "alert_tenant_id", "alert_jwks_url", mode="before")
    @classmethod
    def _alert_blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("alert_token")
    @classmethod
    def _alert_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _URL_SAFE.match(value.get_secret_value()):
            raise ValueError("must be 16 to 512 characters from A-Z a-z 0-9 - . _ ~")
        return value

    @field_validator("alert_tenant_id")
    @classmethod
    def _alert_tenant(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.match(value.strip()):
            raise ValueError("must be the tenant's id (a GUID)")
        return None if value is None else value.strip().lower()

    @field_validator("alert_audience", mode="before")
    @classmethod
    def _alert_audience(cls, value: Any) -> tuple[str, ...]:
        return _split(value)

    @field_validator("alert_jwks_url")
    @classmethod
    def _alert_jwks(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^/\s]+/\S*$", value.strip()):
            raise ValueError(f"must be an https URL, not {value!r}")
        return None if value is None else value.strip()

    @field_validator("alert_channel", "digest_channel", "digest_time", mode="before")
    @classmethod
    def _incident_blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("alert_channel", "digest_channel")
    @classmethod
    def _one_channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL.match(value.strip()):
            raise ValueError(f"{value!r} is not a Slack channel ID (C…/G…)")
        return None if value is None else value.strip()

    @field_validator("alert_routes", mode="before")
    @classmethod
    def _routes(cls, value: Any) -> tuple[str, ...]:
        from incidents.post import Routes

        pairs = _split(value)
        Routes.parse(pairs)  # a ValueError names the first bad pair
        return pairs

    @field_validator("digest_time")
    @classmethod
    def _digest_time(cls, value: str | None) -> str | None:
        if value is not None:
            _hh_mm(value)
        return None if value is None else value.strip()

    @property
    def digest_at(self) -> time | None:
        """BACKUP_FIX_DIGEST_TIME as a time of day (UTC); None: no digest."""
        return None if self.digest_time is None else _hh_mm(self.digest_time)

    @property
    def posts_incidents(self) -> bool:
        """True when incidents are posted (a default channel or a route is configured)."""
        return bool(self.alert_channel or self.alert_routes)

    @field_validator("scopes", mode="before")
    @classmethod
    def _scopes(cls, value: Any) -> tuple[str, ...]:
        values = _split(value)
        Scopes.parse(values)  # a ValueError names the entry that is neither kind
        return values

    @field_validator("poll_minutes", mode="before")
    @classmethod
    def _blank_poll(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("poll_minutes")
    @classmethod
    def _poll_needs_scopes(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value and not info.data.get("scopes"):
            raise ValueError("polls nothing without BACKUP_FIX_SCOPES")
        return value

    @field_validator("resource_graph_endpoint", mode="before")
    @classmethod
    def _graph_endpoint(cls, value: Any) -> Any:
        if value is None or not str(value).strip():
            return None
        text = str(value).strip()
        if not re.match(r"^https://[^/\s]+", text):
            raise ValueError(f"must be an https URL, not {text!r}")
        return text

    @property
    def graph_scopes(self) -> Scopes:
        """BACKUP_FIX_SCOPES parsed: subscription ids and management groups."""
        return Scopes.parse(self.scopes)

    @property
    def poll_every(self) -> int:
        """Minutes between Resource Graph polls: 0 (off) without scopes, else 10 unless set."""
        if not self.scopes:
            return 0
        return 10 if self.poll_minutes is None else self.poll_minutes

    def bot_token(self) -> str:
        """The bot token; raises SettingsError when it is missing."""
        if self.slack_bot_token is None:
            raise SettingsError("SLACK_BOT_TOKEN", "required for serve")
        return self.slack_bot_token.get_secret_value()

    @property
    def retention(self) -> timedelta:
        """How long unmatched pastes, votes, answered threads and thread VMs are kept."""
        return timedelta(days=self.retention_days)

    @property
    def lease(self) -> timedelta:
        """How long a running request's lease lasts without a renewal."""
        return timedelta(seconds=self.lease_seconds)

    @property
    def heartbeat_every(self) -> float:
        """Seconds between lease renewals: five may be missed (GC, a slow database)."""
        return self.lease_seconds / 5

    @property
    def reconcile_every(self) -> float:
        """Seconds between looks for requests whose replica died."""
        return self.lease_seconds * 0.3

    def socket_mode(self, *, force_http: bool = False) -> bool:
        """True when ``serve`` runs over Socket Mode."""
        return self.slack_app_token is not None and not force_http

    def check_serve(self, *, force_http: bool = False) -> None:
        """Raise SettingsError when ``serve`` cannot run in the chosen mode."""
        self.bot_token()
        self._check_alerts()
        if not self.socket_mode(force_http=force_http) and self.slack_signing_secret is None:
            raise SettingsError("SLACK_SIGNING_SECRET", "required in HTTP mode")
        if self.enabled_actions and self.signing_key is None:
            raise SettingsError(
                "BACKUP_FIX_SIGNING_KEY",
                "required when BACKUP_FIX_ENABLED_ACTIONS is set (32 or more random bytes, "
                "base64 or hex)",
            )

    def _check_alerts(self) -> None:
        tenant, audience = self.alert_tenant_id, self.alert_audience
        if audience and not tenant:
            raise SettingsError(
                "BACKUP_FIX_ALERT_TENANT_ID", "required when BACKUP_FIX_ALERT_AUDIENCE is set"
            )
        if tenant and not audience:
            raise SettingsError(
                "BACKUP_FIX_ALERT_AUDIENCE", "required when BACKUP_FIX_ALERT_TENANT_ID is set"
            )
        if self.alert_jwks_url and not tenant:
            raise SettingsError(
                "BACKUP_FIX_ALERT_TENANT_ID", "required when BACKUP_FIX_ALERT_JWKS_URL is set"
            )
        if self.digest_time and not (self.digest_channel or self.alert_channel):
            raise SettingsError(
                "BACKUP_FIX_DIGEST_CHANNEL",
                "required when BACKUP_FIX_DIGEST_TIME is set without BACKUP_FIX_ALERT_CHANNEL",
            )

    def key(self) -> bytes | None:
        """The decoded BACKUP_FIX_SIGNING_KEY, or None when unset."""
        if self.signing_key is None:
            return None
        return decode_key(self.signing_key.get_secret_value())

    @property
    def azure_enabled(self) -> bool:
        """True when vaults are configured: only then are Azure actions offered."""
        return bool(self.vaults)

    def answers_in(self, channel: str) -> bool:
        """True when pasted errors in ``channel`` are answered unasked."""
        return not self.channels or channel in self.channels

    def acts_in(self, channel: str) -> bool:
        """True when Azure features (VM menu, diagnostics, requests, approvals) work in
        ``channel``."""
        return not self.action_channels or channel in self.action_channels


MIN_KEY_BYTES = 32


def decode_key(raw: str) -> bytes:
    """The key's bytes from hex or base64 (standard or URL-safe); ValueError when neither gives
    at least ``MIN_KEY_BYTES``."""
    text = raw.strip()
    if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text):
        key = bytes.fromhex(text)
    else:
        try:
            padded = text + "=" * (-len(text) % 4)
            key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64 or hex") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"must hold at least {MIN_KEY_BYTES} bytes, not {len(key)}")
    return key


def _hh_mm(raw: str) -> time:
    """``HH:MM`` (24-hour) as a time; ValueError naming the value otherwise."""
    found = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", raw.strip())
    if found is None:
        raise ValueError(f"{raw!r} is not HH:MM (UTC, 24-hour)")
    return time(int(found[1]), int(found[2]))


def _each(values: tuple[str, ...], ok: Any, what: str) -> tuple[str, ...]:
    for value in values:
        if not ok(value):
            raise ValueError(f"{value!r} is not {what}")
    return values


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and ``overrides``); SettingsError names the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        variable = str(err["loc"][0]).upper() if err["loc"] else "settings"
        message = str(err["msg"]).removeprefix("Value error, ")
        raise SettingsError(variable, message) from None
