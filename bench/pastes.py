"""Realistic, deterministic inputs for the matcher benchmarks: pastes and non-matching chat lines.

Typical pastes (<= 2 KB) are what operators paste into Slack: ``az backup job show`` JSON,
PowerShell job output, a copy of the portal's error blade, a chat message naming a code or quoting
a message. Long pastes are 64 KiB logs with one error somewhere. Chat lines are ops chatter that
must not match.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from knowledge.loader import KnowledgeBase
from knowledge.model import Entry


def _words(text: str, *, sep: str = " ") -> tuple[str, ...]:
    """Vocabulary written as prose-like strings: easier to read and extend than long lists."""
    return tuple(text.split(sep))


TYPICAL_MAX_BYTES = 2 * 1024
LONG_BYTES = 64 * 1024

_HOSTS = _words("vm-web-01 vm-sql-03 prod-app-2 dc01 jumpbox ubuntu-build-7 sap-hana-db1 vm-iis-04")
_VAULTS = _words("vault-prod vault-dr rsv-weu-01 rsv-sea-backup")
_RGS = _words("rg-backup rg-prod-weu rg-sap rg-shared")


@dataclass(frozen=True, slots=True)
class Paste:
    """One input: its kind, its text and the code a good matcher should find (None: none)."""

    kind: str
    text: str
    code: str | None


def _pick(rng: random.Random, entry: Entry, lang: str = "en") -> str:
    texts = [m.text for m in entry.messages if m.lang == lang] or [m.text for m in entry.messages]
    return rng.choice(texts)


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _az_json(rng: random.Random, entry: Entry) -> str:
    job = _guid(rng)
    body = {
        "id": f"/subscriptions/{_guid(rng)}/resourceGroups/{rng.choice(_RGS)}/providers/"
        f"Microsoft.RecoveryServices/vaults/{rng.choice(_VAULTS)}/backupJobs/{job}",
        "name": job,
        "properties": {
            "activityId": _guid(rng),
            "backupManagementType": "AzureIaasVM",
            "duration": "0:20:14.562143",
            "entityFriendlyName": rng.choice(_HOSTS),
            "errorDetails": [
                {
                    "errorCode": rng.randrange(100000, 999999),
                    "errorString": _pick(rng, entry),
                    "errorTitle": "",
                    "recommendations": ["Ensure that the VM is running and retry the operation."],
                }
            ],
            "extendedInfo": {"dynamicErrorMessage": entry.code},
            "jobType": "AzureIaaSVMJob",
            "operation": "Backup",
            "status": "Failed",
        },
        "type": "Microsoft.RecoveryServices/vaults/backupJobs",
    }
    return json.dumps(body, indent=2)


def _powershell(rng: random.Random, entry: Entry) -> str:
    host = rng.choice(_HOSTS)
    return (
        "PS C:\\> $job = Get-AzRecoveryServicesBackupJob -Status Failed -VaultId $vault.ID | "
        "Select -First 1\nPS C:\\> Get-AzRecoveryServicesBackupJobDetail -Job $job\n\n"
        f"WorkloadName     : {host}\nOperation        : Backup\nStatus           : Failed\n"
        f"StartTime        : 11/27/2026 10:20:54 PM\nEndTime          : 11/27/2026 10:41:09 PM\n"
        f"JobID            : {_guid(rng)}\nBackupManagementType : AzureVM\n\n"
        "PS C:\\> $job.ErrorDetails\n\n"
        f"ErrorCode        : {rng.randrange(100000, 999999)}\n"
        f"ErrorMessage     : {_pick(rng, entry)}\n"
        "Recommendations  : {Ensure that the VM is running and the VM agent is responding.}\n"
        f"DynamicErrorMessage : {entry.code}\n"
    )


def _portal(rng: random.Random, entry: Entry) -> str:
    return (
        f"Backup job failed\n{rng.choice(_HOSTS)}\nError details\nError code\n{entry.code}\n"
        f"Error message\n{_pick(rng, entry)}\nRecommended action\n"
        "Ensure the VM is running and retry the backup. More information\n"
    )


def _slack_code(rng: random.Random, entry: Entry) -> str:
    code = entry.code if rng.random() < 0.8 else entry.code.lower()
    return rng.choice(
        (
            f"backup of {rng.choice(_HOSTS)} failed again overnight with {code}, anyone seen this?",
            f"@oncall {code} on {rng.choice(_HOSTS)} in {rng.choice(_VAULTS)}, what do we do",
            f"getting `{code}` since the patch window :(",
        )
    )


def _slack_message(rng: random.Random, entry: Entry) -> str:
    text = _pick(rng, entry)
    if rng.random() < 0.3:
        text = text.lower()
    return rng.choice(
        (
            f'job for {rng.choice(_HOSTS)} says "{text}" - any idea?',
            f"hi team, backups failing: {text} This started yesterday.",
            f"> {text}\nsame thing on {rng.choice(_HOSTS)} and {rng.choice(_HOSTS)}",
        )
    )


def _slack_zh(rng: random.Random, entry: Entry) -> str:
    return (
        f"{rng.choice(_HOSTS)} 的備份又失敗了：{_pick(rng, entry, 'zh-TW')}，有人知道怎麼處理嗎？"
    )


_TYPICAL: tuple[tuple[str, Callable[[random.Random, Entry], str]], ...] = (
    ("az-json", _az_json),
    ("powershell", _powershell),
    ("portal", _portal),
    ("slack-code", _slack_code),
    ("slack-message", _slack_message),
    ("slack-zh", _slack_zh),
)


def typical_pastes(kb: KnowledgeBase, *, count: int = 60, seed: int = 0) -> list[Paste]:
    """``count`` pastes of at most 2 KB, of every kind in turn, each naming an entry of ``kb``."""
    rng = random.Random(seed)
    pastes = []
    for i in range(count):
        kind, build = _TYPICAL[i % len(_TYPICAL)]
        entry = rng.choice(kb.entries)
        text = build(rng, entry)
        assert len(text.encode()) <= TYPICAL_MAX_BYTES, (kind, len(text.encode()))
        pastes.append(Paste(kind, text, entry.code))
    return pastes


def _log_line(rng: random.Random, i: int) -> str:
    stamp = f"2026-11-27T22:{i // 60 % 60:02d}:{i % 60:02d}.{rng.randrange(1000):03d}Z"
    return rng.choice(
        (
            f"{stamp} [INFO] WALinuxAgent: ExtHandler Heartbeat goal state {rng.randrange(9999)}",
            f"{stamp} [INFO] VMSnapshot: plugin {rng.choice(('pre', 'post'))}-script ok in "
            f"{rng.randrange(5, 900)} ms",
            f"{stamp} [DEBUG] fsfreeze: mount /mnt/data{rng.randrange(8)} state=thawed",
            f"{stamp} [INFO] backup: uploaded block {rng.randrange(10**6)} of disk "
            f"lun{rng.randrange(4)} ({rng.randrange(1, 512)} MB)",
            f"{stamp} [WARN] network: retrying GET http://168.63.129.16/machine?comp=goalstate "
            f"(attempt {rng.randrange(1, 4)})",
            f"{stamp} [INFO] Microsoft.Azure.RecoveryServices.VMSnapshotLinux: status changed",
        )
    )


def long_pastes(kb: KnowledgeBase, *, count: int = 4, seed: int = 0) -> list[Paste]:
    """``count`` logs of just under 64 KiB, each with one error line of ``kb`` somewhere in it."""
    rng = random.Random(seed + 1)
    pastes = []
    for _ in range(count):
        entry = rng.choice(kb.entries)
        error = (
            f"2026-11-27T22:41:09.381Z [ERROR] backup job failed: {entry.code}: {_pick(rng, entry)}"
        )
        lines: list[str] = []
        size = len(error.encode()) + 1
        while True:
            line = _log_line(rng, len(lines))
            if size + len(line.encode()) + 1 > LONG_BYTES:
                break
            lines.append(line)
            size += len(line.encode()) + 1
        lines.insert(rng.randrange(len(lines) + 1), error)
        pastes.append(Paste("long-64k", "\n".join(lines), entry.code))
    return pastes


_CHAT = (
    "{who} is restarting {host} after patching, should be back in {n} min",
    "deploying {svc} {ver} to {env} now",
    "PR #{n} for {svc} is ready for review",
    "who's on call for {env} this week?",
    "{host} disk at {n}% again, cleaning up /var/log",
    "backup of {host} finished fine last night, thanks {who}",
    "lunch at {n}:30? {who} is buying",
    "moving the {svc} standup to {n}:00 tomorrow",
    "can someone approve the change for {host} in {env}",
    "cert for {svc} expires in {n} days, ticket filed",
    "{who}: the {svc} dashboard looks slow since {ver}",
    "rolled back {svc} in {env}, latency is normal again",
    "scaling {host} to {sku} for the month-end batch",
    "snapshot policy for {env} reviewed, no changes needed",
    "{who} will be out on Friday, {who2} covers {env}",
)
_WHO = _words("alice bob chen dana eitan fatima george hiro ines jamal kim lukas mei nora omar")
_SVC = _words("billing-api checkout auth-gateway search-indexer reports etl-nightly grafana")
_ENV = _words("prod staging dev dr-weu qa")
_SKU = _words("Standard_D4s_v5 Standard_E8s_v5 Standard_B2ms Standard_F16s_v2")


def chat_lines(count: int = 600, *, seed: int = 0) -> list[str]:
    """``count`` distinct chat lines of ops chatter that name no error."""
    rng = random.Random(seed + 2)
    seen: dict[str, None] = {}
    while len(seen) < count:
        line = rng.choice(_CHAT).format(
            who=rng.choice(_WHO),
            who2=rng.choice(_WHO),
            host=rng.choice(_HOSTS),
            svc=rng.choice(_SVC),
            env=rng.choice(_ENV),
            sku=rng.choice(_SKU),
            ver=f"v{rng.randrange(1, 4)}.{rng.randrange(20)}.{rng.randrange(10)}",
            n=rng.randrange(2, 99),
        )
        seen.setdefault(line, None)
    return list(seen)
