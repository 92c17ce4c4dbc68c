"""``resume_protection``: resume backups of a VM whose protection was stopped or suspended."""

from __future__ import annotations

import dataclasses
import re
from typing import ClassVar

from pydantic import Field

from actions.base import Context, Operation, Params, Plan
from actions.diagnostics.protection_status import is_stopped
from actions.errors import NotAllowed
from actions.resolve import describe, fresh_item, item_id
from actions.resources import Outcome, VaultRef


class ResumeProtectionParams(Params):
    """The backup policy (resource id, in the item's vault) to protect the VM with."""

    policy_id: str = Field(default="", max_length=1024)


def _own(params: Params) -> ResumeProtectionParams:
    if isinstance(params, ResumeProtectionParams):
        return params
    return ResumeProtectionParams.model_validate(params.model_dump())


def policy_of_vault(policy_id: str, vault: VaultRef) -> str | None:
    """The policy's name when ``policy_id`` is exactly a backup policy of ``vault``, else None.

    Read segment by segment like a vault id: no empty, ``.`` or ``..`` segment, nothing
    percent-encoded, the vault's own subscription, group and name (ARM names ignore case)."""
    if "%" in policy_id or "\\" in policy_id or any(c.isspace() for c in policy_id):
        return None
    parts = policy_id.split("/")
    if len(parts) != len(_POLICY_SHAPE) + 1 or parts[0] != "":
        return None
    expected = [
        s.format(sub=vault.subscription_id, rg=vault.resource_group, vault=vault.name)
        for s in _POLICY_SHAPE[:-1]
    ]
    for seg, want in zip(parts[1:-1], expected, strict=True):
        if seg.casefold() != want.casefold():
            return None
    name = parts[-1]
    if not name or name in (".", "..") or not _POLICY_NAME.fullmatch(name):
        return None
    return name


# /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.RecoveryServices/vaults/<vault>
# /backupPolicies/<name>
_POLICY_SHAPE = (
    "subscriptions",
    "{sub}",
    "resourceGroups",
    "{rg}",
    "providers",
    "Microsoft.RecoveryServices",
    "vaults",
    "{vault}",
    "backupPolicies",
    "{name}",
)
_POLICY_NAME = re.compile(r"^[A-Za-z0-9][\w.-]{0,149}$")


def _blocked(p: ResumeProtectionParams, ctx: Context) -> str | None:
    item = ctx.item
    if not is_stopped(item.protection_state):
        return f"Protection is {item.protection_state or 'unknown'}: there is nothing to resume."
    if not p.policy_id:
        return "No backup policy given, and the item has no last policy."
    if policy_of_vault(p.policy_id, item.vault) is None:
        return f"The policy must be a backup policy of vault {item.vault.name}."
    return None


class ResumeProtection:
    """Resumes protection of this VM with the given backup policy of its vault (by default the
    policy it had). Scheduled backups start again and retention follows that policy, so recovery
    points kept since protection stopped may expire under its rules."""

    name: ClassVar[str] = "resume_protection"
    params_model: ClassVar[type[Params]] = ResumeProtectionParams

    def default_params(self, ctx: Context) -> Params:
        """The item's last policy."""
        return ResumeProtectionParams(policy_id=ctx.item.policy_id)

    def plan(self, params: Params, ctx: Context) -> Plan:
        """PUT the protected item with the policy, after checking protection is stopped."""
        p = _own(params)
        policy = p.policy_id.rsplit("/", 1)[-1] or "?"
        return Plan(
            self.name,
            describe(ctx.item),
            (Operation("PUT", item_id(ctx.item), f"resume protection with policy {policy}"),),
            ("protection is stopped or suspended", "the policy belongs to the item's vault"),
            _blocked(p, ctx),
        )

    def execute(self, params: Params, ctx: Context) -> Outcome:
        """Re-check the item's state, then resume."""
        ctx = dataclasses.replace(ctx, item=fresh_item(ctx.api, ctx.item))
        blocked = _blocked(_own(params), ctx)
        if blocked:
            raise NotAllowed(blocked)
        return ctx.api.resume_protection(ctx.item, policy_id=_own(params).policy_id)
