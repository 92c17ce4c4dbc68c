"""What every diagnostic and remediation is: the shapes the bot builds on.

A diagnostic reads and reports. A remediation is one file under ``actions/remediations/`` with a
typed ``Params`` model (``extra="forbid"``), a docstring approvers read, ``plan()`` (what exactly
will be called, on what, after which pre-checks; shown on the approval card and hashed into the
approval) and ``execute()`` (runs only after the gate let an approval through).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from actions.ports import BackupApi
from actions.resources import Outcome, ProtectedVm


class Params(BaseModel):
    """Base of every remediation's parameters: strict, immutable, JSON-able."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Operation:
    """One Azure call a plan will make: the HTTP verb and the resource it acts on."""

    verb: str  # e.g. "POST", "DELETE", "PUT"
    resource_id: str
    what: str  # a short sentence: "trigger an on-demand backup, kept until 2026-12-28"


@dataclass(frozen=True, slots=True)
class Plan:
    """What a remediation will do; ``blocked`` says why it can't (then it is not offered)."""

    action: str
    target: str  # the VM or resource it is about, for people
    operations: tuple[Operation, ...]
    prechecks: tuple[str, ...] = ()
    blocked: str | None = None
    notes: tuple[str, ...] = ()

    def text(self) -> str:
        """The plan as the approver reads it (and as its hash covers it)."""
        lines = [f"{self.action} on {self.target}"]
        lines += [f"- check: {p}" for p in self.prechecks]
        lines += [f"- {op.verb} {op.resource_id}: {op.what}" for op in self.operations]
        lines += [f"- note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of a diagnostic's report; ``ok`` False marks a problem."""

    label: str
    value: str
    ok: bool | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """What a diagnostic found about one protected VM."""

    action: str
    target: str
    findings: tuple[Finding, ...]
    summary: str = ""
    suggestions: tuple[str, ...] = ()  # remediation names that fit what was found
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """What an action knows besides its parameters: the item, the API, the clock."""

    item: ProtectedVm
    api: BackupApi
    now: datetime


class Diagnostic(Protocol):
    """A read-only check."""

    name: ClassVar[str]

    def run(self, ctx: Context) -> Report:
        """Read Azure and report."""
        ...


class Remediation(Protocol):
    """A change in Azure, approval-gated."""

    name: ClassVar[str]
    params_model: ClassVar[type[Params]]

    def default_params(self, ctx: Context) -> Params:
        """The parameters the request button uses (the card may offer to change them)."""
        ...

    def plan(self, params: Params, ctx: Context) -> Plan:
        """Exactly what ``execute`` will call, on what, after which pre-checks."""
        ...

    def execute(self, params: Params, ctx: Context) -> Outcome:
        """Make the change; raises actions.errors.AzureError subclasses on failure."""
        ...
