"""The matcher against the labelled corpus: top-1 accuracy, multi-error recall, false triggers."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from knowledge import match

CORPUS = Path(__file__).resolve().parent / "corpus"

# The 48 codes of reference/azure-docs/error-codes.tsv, copied here so the judge does not
# depend on the knowledge base it judges.
CODES = frozenset(
    {
        "UserErrorGuestAgentStatusUnavailable",
        "GuestAgentSnapshotTaskStatusError",
        "UserErrorVmProvisioningStateFailed",
        "UserErrorRpCollectionLimitReached",
        "UserErrorKeyvaultPermissionsNotConfigured",
        "ExtensionSnapshotFailedNoNetwork",
        "ExtensionOperationFailedForManagedDisks",
        "BackUpOperationFailed",
        "BackUpOperationFailedV2",
        "UserErrorUnsupportedDiskSize",
        "UserErrorBackupOperationInProgress",
        "UserErrorCrpReportedUserError",
        "UserErrorBcmDatasourceNotPresent",
        "VMRestorePointInternalError",
        "CopyingVHDsFromBackUpVaultTakingLongTime",
        "UserErrorVmNotInDesirableState",
        "UserErrorFsFreezeFailed",
        "ExtensionSnapshotFailedCOM",
        "ExtensionInstallationFailedCOM",
        "ExtensionInstallationFailedMDTC",
        "ExtensionFailedVssWriterInBadState",
        "ExtensionFailedVssServiceInBadState",
        "UserErrorSkuNotAvailable",
        "UserErrorMarketPlaceVMNotSupported",
        "ExtensionConfigParsingFailure",
        "ExtensionStuckInDeletionState",
        "ExtensionFailedSnapshotLimitReachedError",
        "ExtensionFailedTimeoutVMNetworkUnresponsive",
        "ResourceNotFound",
        "BCMV2VMNotFound",
        "UserErrorBCMPremiumStorageQuotaError",
        "AzureVmOffline",
        "ExtensionSnapshotBitlockerError",
        "VmNotInDesirableState",
        "ExtensionSnapshotFailedNoSecureNetwork",
        "ExtensionVCRedistInstallationFailure",
        "UserErrorRequestDisallowedByPolicy",
        "UserErrorUnableToOpenMount",
        "UserErrorInstantRpNotFound",
        "UserErrorMigrationFromTrustedLaunchVMToNonTrustedVMNotAllowed",
        "UserErrorCrossSubscriptionRestoreNotSupportedForOLR",
        "UserErrorCrossSubscriptionRestoreNotSupportedForUnManagedAzureVM",
        "UserErrorCrossSubscriptionRestoreNotSupportedForCRR",
        "UserErrorCrossSubscriptionRestoreNotSupportedFromSnapshot",
        "UserErrorCrossSubscriptionRestoreInvalidTenant",
        "UserErrorCrossSubscriptionRestoreInvalidTargetSubscription",
        "UserErrorCrossSubscriptionRestoreNotSupportedForEncryptedAzureVM",
        "UserErrorCrossSubscriptionRestoreNotSupportedForTrustedLaunchAzureVM",
    }
)
SHAPES = (
    "code",
    "code_in_sentence",
    "json_arm",
    "json_escaped",
    "az_cli",
    "powershell_list",
    "powershell_table",
    "portal",
    "log",
    "slack_markdown",
    "code_fence",
    "message_full",
    "message_variant",
    "message_partial",
    "message_old",
    "typo_code",
    "zh_message",
    "zh_chat",
    "multi",
    "long_paste",
)

TOP1_MIN = 0.98
SHAPE_TOP1_MIN = 0.9
MULTI_RECALL_MIN = 0.9
FALSE_TRIGGER_MAX = 0.01

Case = dict[str, Any]


def _load(name: str) -> list[Case]:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@cache
def positives() -> list[Case]:
    """The positive cases, in file order."""
    return _load("positives.jsonl")


@cache
def negatives() -> list[Case]:
    """The negative cases, in file order."""
    return _load("negatives.jsonl")


@cache
def found(text: str) -> tuple[str, ...]:
    """Codes the matcher answers for a text, best first (cached: each text is matched once)."""
    return tuple(m.code for m in match(text))


def _top1_ok(case: Case) -> bool:
    got = found(case["text"])
    allowed = set(case.get("accept", []))
    allowed |= set(case["expect"]) if case["shape"] == "multi" else {case["expect"][0]}
    return bool(got) and got[0] in allowed


def _report(cases: list[Case]) -> str:
    return "\n".join(
        f"  {c['id']} [{c['shape']}] expected {c['expect']}"
        + (f" (or {c['accept']})" if c.get("accept") else "")
        + f" got {list(found(c['text']))}: {c['text'][:80]!r}"
        for c in cases
    )


# ----- the corpus itself --------------------------------------------------------------------


def test_corpus_is_well_formed() -> None:
    pos, neg = positives(), negatives()
    ids = [c["id"] for c in pos + neg]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for c in pos:
        assert set(c) <= {"id", "text", "expect", "accept", "shape", "lang"}, c["id"]
        assert c["id"].startswith("p"), c["id"]
        assert c["text"].strip(), c["id"]
        assert c["expect"], c["id"]
        assert set(c["expect"]) | set(c.get("accept", [])) <= CODES, c["id"]
        assert len(set(c["expect"])) == len(c["expect"]), c["id"]
        assert c["shape"] in SHAPES, c["id"]
        assert c["lang"] == ("zh-TW" if c["shape"].startswith("zh_") else "en"), c["id"]
        assert len(c["text"].encode()) <= 64 * 1024, c["id"]
    for c in neg:
        assert set(c) == {"id", "text", "kind"}, c["id"]
        assert c["id"].startswith("n"), c["id"]
        assert c["kind"] in ("chatter", "lookalike"), c["id"]
        assert c["text"].strip(), c["id"]


def test_corpus_covers_every_code_and_shape() -> None:
    pos, neg = positives(), negatives()
    assert len(pos) >= 150
    assert len(neg) >= 100
    assert sum(c["kind"] == "lookalike" for c in neg) >= 30
    shapes = Counter(c["shape"] for c in pos)
    assert {s: n for s, n in shapes.items() if n < 5} == {}
    assert set(shapes) == set(SHAPES)
    per_code: dict[str, set[str]] = defaultdict(set)
    for c in pos:
        for code in c["expect"]:
            per_code[code].add(c["shape"])
    thin = {code: sorted(per_code[code]) for code in CODES if len(per_code[code]) < 4}
    assert thin == {}


# ----- the matcher against it ---------------------------------------------------------------


def test_top1_accuracy() -> None:
    pos = positives()
    failed = [c for c in pos if not _top1_ok(c)]
    accuracy = 1 - len(failed) / len(pos)
    assert accuracy >= TOP1_MIN, f"top-1 {accuracy:.3f} < {TOP1_MIN}:\n{_report(failed)}"


@pytest.mark.parametrize("shape", SHAPES)
def test_top1_accuracy_per_shape(shape: str) -> None:
    cases = [c for c in positives() if c["shape"] == shape]
    failed = [c for c in cases if not _top1_ok(c)]
    accuracy = 1 - len(failed) / len(cases)
    assert accuracy >= SHAPE_TOP1_MIN, f"{shape}: top-1 {accuracy:.3f}:\n{_report(failed)}"


def test_multi_error_pastes_find_every_error() -> None:
    cases = [c for c in positives() if c["shape"] == "multi"]
    wanted = sum(len(c["expect"]) for c in cases)
    hits = sum(len(set(c["expect"]) & set(found(c["text"]))) for c in cases)
    missed = [c for c in cases if not set(c["expect"]) <= set(found(c["text"]))]
    assert hits / wanted >= MULTI_RECALL_MIN, f"recall {hits}/{wanted}:\n{_report(missed)}"


def test_each_code_is_returned_once() -> None:
    dupes = [c for c in positives() if len(set(found(c["text"]))) != len(found(c["text"]))]
    assert dupes == [], _report(dupes)


def test_false_trigger_rate() -> None:
    neg = negatives()
    triggered = [c for c in neg if found(c["text"])]
    rate = len(triggered) / len(neg)
    report = "\n".join(
        f"  {c['id']} [{c['kind']}] got {list(found(c['text']))}: {c['text'][:80]!r}"
        for c in triggered
    )
    assert rate <= FALSE_TRIGGER_MAX, f"false triggers {rate:.3f}:\n{report}"
