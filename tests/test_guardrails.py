"""Guardrails: configured vaults only, remediations enabled one by one, buttons only where the
remediation applies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actions.errors import AzureForbidden, NotAllowed
from actions.guardrails import Guardrails
from actions.resources import Job, VaultRef, VmRef
from tests.fakes.backup_api import VAULT, VM, FakeBackupApi, protected_vm

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
OTHER = VaultRef("sub-2", "rg-x", "vault-x")
ENTRY = ["job_details", "cancel_job", "trigger_backup", "restore_points", "job_details"]


def test_vaults_and_items() -> None:
    rails = Guardrails([VAULT], frozenset())
    rails.check_vault(VaultRef("SUB-1", "RG-BACKUP", "Vault-1"))  # ARM ids are case-insensitive
    rails.check_item(protected_vm())
    with pytest.raises(NotAllowed, match="Vault vault-x is not one this bot may use"):
        rails.check_vault(OTHER)
    with pytest.raises(NotAllowed, match="VM db-01 is not protected by a vault"):
        rails.check_item(protected_vm(VmRef("sub-2", "rg", "db-01"), OTHER))


def test_no_vault_configured_refuses_everything() -> None:
    with pytest.raises(NotAllowed):
        Guardrails([], frozenset()).check_vault(VAULT)


def test_enabled() -> None:
    rails = Guardrails([VAULT], frozenset({"trigger_backup"}))
    rails.check_enabled("locks")  # diagnostics are always on
    rails.check_enabled("trigger_backup")
    with pytest.raises(NotAllowed, match="cancel_job is not enabled"):
        rails.check_enabled("cancel_job")
    with pytest.raises(NotAllowed, match="no action called 'rm_rf'"):
        rails.check_enabled("rm_rf")


def test_offered_without_item_filters_by_enabled_only() -> None:
    rails = Guardrails([VAULT], frozenset({"trigger_backup"}))
    assert rails.offered([*ENTRY, "bogus"]) == ["job_details", "trigger_backup", "restore_points"]
    assert Guardrails([VAULT], frozenset()).offered(ENTRY) == ["job_details", "restore_points"]


def test_offered_for_an_item_drops_remediations_whose_plan_is_blocked() -> None:
    api = FakeBackupApi()
    item = api.add_item(protected_vm())
    rails = Guardrails([VAULT], frozenset({"trigger_backup", "cancel_job"}))
    assert rails.offered(ENTRY, item, api=api, now=NOW) == [
        "job_details",
        "trigger_backup",
        "restore_points",
    ]
    api.add_job(Job(VAULT, "run-1", VM.name, "Backup", "InProgress", NOW, None))
    assert rails.offered(ENTRY, item, api=api, now=NOW) == [
        "job_details",
        "cancel_job",
        "restore_points",
    ]


def test_offered_for_an_item_outside_the_vaults_is_empty() -> None:
    api = FakeBackupApi()
    rails = Guardrails([VAULT], frozenset({"trigger_backup"}))
    item = protected_vm(VmRef("sub-2", "rg", "db-01"), OTHER)
    assert rails.offered(ENTRY, item, api=api, now=NOW) == []
    assert api.calls == []


def test_offered_hides_a_remediation_it_cannot_plan() -> None:
    api = FakeBackupApi()
    item = api.add_item(protected_vm())
    api.fail("list_jobs", AzureForbidden("no reader role", status=403))
    rails = Guardrails([VAULT], frozenset({"trigger_backup"}))
    assert rails.offered(["trigger_backup", "locks"], item, api=api, now=NOW) == ["locks"]


def test_offered_for_an_item_needs_the_api() -> None:
    with pytest.raises(TypeError):
        Guardrails([VAULT], frozenset()).offered(ENTRY, protected_vm())
