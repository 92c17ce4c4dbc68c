"""The records every incident source produces: a failed (or a succeeded) backup job of one item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Source = Literal["alert", "poll"]


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """One backup job's outcome as an alert or a Resource Graph row tells it.

    ``job_id`` is the job's full resource id when known (the dedupe key across alerts and polls);
    ``error_codes`` are the job's own error codes, best first, when the source carries them (a
    poll row or the job read through the SDK); ``alert_id`` and ``portal_link`` only for alerts.
    """

    source: Source
    succeeded: bool
    vault_id: str  # a Recovery Services or Backup vault's resource id
    item_name: str  # the protected item's friendly name (VM, database, share...)
    workload: str  # as Azure gives it: AzureIaasVM, SQLDataBase, AzureFileShare...
    operation: str  # Backup, Restore, ConfigureBackup...
    at: datetime  # when the job started (or the alert fired), timezone-aware UTC
    job_id: str = ""
    item_id: str = ""  # the protected item's or datasource's resource id when known
    error_codes: tuple[str, ...] = ()
    error_message: str = ""
    alert_id: str = ""
    portal_link: str = ""
    raw: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def subscription_id(self) -> str:
        """The vault's subscription id (lower case), '' when the vault id has none."""
        parts = self.vault_id.split("/")
        try:
            return parts[parts.index("subscriptions") + 1].lower()
        except (ValueError, IndexError):
            return ""

    @property
    def incident_key(self) -> str:
        """What one incident is about: the item (its id, else vault + name) and the first code."""
        item = (self.item_id or f"{self.vault_id}/{self.item_name}").lower()
        code = self.error_codes[0] if self.error_codes else ""
        return f"{item}|{code}"
