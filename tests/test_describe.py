"""Descriptions: errors recognised from how people put them in their own words.

The pastes are written here the way operators ask in a channel, not taken from the knowledge
base; the shipped knowledge base is the index.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from knowledge import analyse
from knowledge.compete import ANSWER_MARGIN, SUGGEST_SCORE, compete
from knowledge.describe import MAX_CHARS, DescriptionIndex, Reading
from knowledge.description_bar import (
    LEAD,
    LEAD_HEADLINE,
    MIN_HEADLINE,
    description_evidence,
    judge,
)
from knowledge.entry_words import of_restores, said, speaks_of_restore
from knowledge.evidence import Evidence
from knowledge.matcher import default_matcher, prepare
from knowledge.signals import workloads
from knowledge.wording import code_words, context, describes, fold, words


def _answer(text: str) -> list[tuple[str, str]]:
    return [(m.code, m.via) for m in analyse(text).matches]


def _suggested(text: str) -> list[str]:
    return [m.code for m in analyse(text).suggestions]


# ----- how operators write ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("snapshot rg deleted", "snapshot resource group deleted"),
        ("no perms on the sub", "no permissions on the subscription"),
        ("vault MSI", "vault managed identity"),
        ("the AG listener", "the availability group listener"),
        ("db creds", "database credentials"),
        ("保存庫的受控識別", "vault msi"),
        ("快照集資源群組", "snapshot rg"),
    ],
)
def test_shorthand_and_its_long_form_read_alike(short: str, long: str) -> None:
    assert words(short) == words(long)


def test_codes_are_read_as_their_words() -> None:
    assert code_words("UserErrorSnapshotRGNotFound")[:5] == [
        "user",
        "error",
        "snapshot",
        "rg",
        "not",
    ]
    assert "sysadmin" in code_words("UserErrorSQLNoSysadminMembership")
    assert {"sql", "lsn"} <= set(code_words("UserErrorSQLLSNValidationFailure"))


def test_numbers_and_ids_are_not_description_words() -> None:
    found = words("vm-07 failed 3 times at 02:00, error 0x80070005")
    assert "fail" in found
    assert "error" in found
    assert not [w for w in found if any(ch.isdigit() for ch in w)]


def test_folded_words_keep_their_place_in_the_paste() -> None:
    low = "the resource group of the vault"
    _, found = fold(low)
    spans = {w: (s, e) for w, s, e in found}
    start = low.index("resource group")
    assert start <= spans["rg"][0] < spans["rg"][1] <= start + len("resource group")
    assert low[slice(*spans["vault"])] == "vault"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HANA backups in the vault fail since Monday", True),
        ("backup of the VM in the Recovery Services vault failed", True),
        ("禮拜一開始 HANA 備份到保存庫都失敗", True),
        ("the vault soft delete retention is 14 days now", False),  # nothing went wrong
        ("our Key Vault secret expired and the app failed", False),  # a key vault is no vault
        ("Veeam backup to the Azure blob repository failed", False),  # another vendor's
        ("backup of the laptop failed again", False),  # nothing Azure about it
    ],
)
def test_azure_backup_context(text: str, expected: bool) -> None:
    low = text.lower()
    _, found = fold(low)
    present = {w for w, _, _ in found}
    assert context(low, present, workloads(fold(low)[0], named=True)) is expected


def test_chat_that_names_no_backup_is_not_read_at_all() -> None:
    assert not describes(prepare("deploying checkout v2.3 to staging now"))
    assert describes(prepare("the recovery point did not move to archive"))
    assert not describes(prepare("backup of fs01 finished fine last night, thanks"))


# ----- answering and suggesting -------------------------------------------------------------


def test_a_question_in_own_words_is_answered() -> None:
    text = (
        "Azure Files backup fails, someone put a read-only lock on the storage account and the "
        "vault cannot take snapshots"
    )
    assert _answer(text) == [("UserErrorStorageAccountIsLocked", "description")]


def test_chat_words_are_not_description_words() -> None:
    # Pronouns and small talk are rare in the entries' text: they would weigh like its rarest words.
    assert words("we still keep seeing it since last month, someone said") == []
    assert words("snapshot not found") == ["snapshot", "not", "find"]


def test_twins_are_told_apart_by_the_words_of_their_codes() -> None:
    text = (
        "our AKS backups keep failing, the backup plugin pod gets restarted (OOMKilled) in the "
        "middle of the backup run"
    )
    assert _answer(text) == [("UserErrorBackupPluginPodRestartedDuringBackup", "description")]


def test_twins_the_paste_cannot_tell_apart_are_suggested() -> None:
    # "backup plugin" and "restore run": both twins' words are there, and the same workload.
    text = (
        "AKS restore keeps failing, the backup plugin pod gets restarted in the middle of "
        "the restore run"
    )
    assert _answer(text) == []
    assert set(_suggested(text)[:2]) == {
        "UserErrorBackupPluginPodRestartedDuringRestore",
        "UserErrorBackupPluginPodRestartedDuringBackup",
    }


@pytest.mark.parametrize(
    ("own_a", "own_b", "present", "expected"),
    [
        (["backup"], ["restore"], {"backup"}, (1.0, 0.0)),  # each has words of its own
        (["backup"], ["restore"], {"backup", "restore"}, (1.0, 1.0)),  # untold
        ([], ["other", "product", "caus"], {"backup"}, (1.0, 0.0)),  # the general one
        ([], ["other", "product", "caus"], {"other", "product"}, (0.0, 1.0)),  # the specific one
        ([], [], {"backup"}, (0.0, 0.0)),  # the same words: the workload decides
    ],
)
def test_twins_are_told_apart_by_their_own_words(
    own_a: list[str], own_b: list[str], present: set[str], expected: tuple[float, float]
) -> None:
    shared = ["user", "error", "lsn"]
    assert said(Counter(shared + own_a), Counter(shared + own_b), present) == expected


def test_the_general_twin_unless_the_specific_ones_words_are_there() -> None:
    general = "SQL log backups fail: log chain is broken, a second tool also takes log backups"
    specific = (
        "SQL log backups fail: log chain broken because another backup product is taking "
        "backups of the database"
    )
    assert _answer(general)[0][0] == "UserErrorSQLLSNValidationFailure"
    assert _answer(specific)[0][0] == "UserErrorOtherBackupProductCausingSQLLSNValidationFailure"


def test_a_paste_naming_no_workload_is_about_a_vm() -> None:
    vm = "backup of the VM fails: the guest agent status is unavailable, agent not ready"
    sql = "SQL database backup fails: the guest agent status is unavailable on the SQL VM"
    assert _suggested(vm)[0] == "UserErrorGuestAgentStatusUnavailable"
    assert _answer(sql)[0][0] == "GuestAgentStatusUnavailableUserError"


def test_an_entry_documented_for_several_workloads_fits_each() -> None:
    text = (
        "Backup of our MySQL flexible server fails in the Backup vault: the vault identity lacks "
        "the backup roles on the server"
    )
    assert _answer(text) == [("UserErrorMSIMissingPermissions", "symptom")]


def test_without_backup_context_a_description_only_suggests() -> None:
    text = "the backup plugin pod gets restarted in the middle of the run and it fails"
    assert _answer(text) == []
    assert "UserErrorBackupPluginPodRestartedDuringBackup" in _suggested(text)


def test_another_vendors_product_is_not_answered() -> None:
    text = "Veeam backup of our Azure blob repository fails: immutability settings mismatch"
    assert _answer(text) == []


def test_a_setting_discussed_in_chat_is_not_answered() -> None:
    assert _answer("fyi we set the vault soft delete retention to 14 days for all the subs") == []


def test_the_workload_named_decides_between_databases() -> None:
    reading = default_matcher().descriptions.read(
        prepare(
            "SAP ASE log backups fail, the log sequence check fails and a full backup is forced"
        )
    )
    assert reading is not None
    assert reading.ranked[0][0].workload == "sap-ase"


def test_a_long_log_is_no_description() -> None:
    text = "backup of the VM in the vault failed, snapshot rg deleted. " * (MAX_CHARS // 40)
    assert default_matcher().descriptions.read(prepare(text)) is None


def test_a_named_code_is_never_overridden_by_a_description() -> None:
    text = (
        "UserErrorStorageAccountNotFound: backup of the file share fails, someone put a "
        "read-only lock on the storage account"
    )
    assert [m.code for m in analyse(text).matches][:1] == ["UserErrorStorageAccountNotFound"]


# ----- the bar a description clears (knowledge/description_bar.py) ---------------------------


def _reading(text: str, **changes: object) -> tuple[DescriptionIndex, Reading]:
    index = default_matcher().descriptions
    reading = index.read(prepare(text))
    assert reading is not None
    return index, replace(reading, **changes)  # type: ignore[arg-type]


def test_the_errors_own_headline_words_need_a_smaller_lead() -> None:
    text = (
        "Azure Backup: moving the recovery point to the archive tier fails, it is already archived"
    )
    index, reading = _reading(text, lead=(LEAD + LEAD_HEADLINE) / 2)
    winner = reading.ranked[0][0]
    headline = index.headline(index.index[winner.code])
    said = frozenset(sorted(headline)[:MIN_HEADLINE])
    assert judge(index, replace(reading, rare_words=said), []).why_not == ()
    fewer = frozenset(sorted(said)[: MIN_HEADLINE - 1])
    assert judge(index, replace(reading, rare_words=fewer), []).why_not == ("lead",)


def test_a_backup_paste_is_not_answered_with_a_restore_error() -> None:
    backup = (
        "Azure Backup job failed for our encrypted VM: it can't read the BEK secret or the KEK "
        "key in the key vault"
    )
    restore = backup.replace("Azure Backup job", "Azure Backup: the restore job")
    assert _answer(backup) == []
    assert _suggested(backup)[:1] == ["DiskEncryptionInternalError"]
    assert _answer(restore) == [("DiskEncryptionInternalError", "description")]
    # A Recovery Services vault or a recovery point is no restore.
    _, reading = _reading(backup + " (Recovery Services vault, latest recovery point)")
    assert not reading.restore


def test_by_description_the_documented_error_answers_before_its_refinement() -> None:
    text = (
        "Azure Backup, SQL in VM: log backups fail because another backup product also backs up "
        "the database and breaks the log chain"
    )
    assert _answer(text) == [("UserErrorSQLLSNValidationFailure", "description")]
    refinement = "UserErrorOtherBackupProductCausingSQLLSNValidationFailure"
    assert _suggested(text)[:1] == [refinement]
    assert [m.code for m in analyse(f"{refinement}: {text}").matches][:1] == [refinement]


def test_a_message_set_aside_leaves_the_paste_to_its_description() -> None:
    # "log chain is broken" is SQL's message word for word; the paste is about HANA.
    text = (
        "Azure Backup for SAP HANA: log backups to the Recovery Services vault fail with log "
        "chain is broken, after a DBA took a manual log backup to a local folder"
    )
    assert _answer(text) == [("UserErrorHANALSNValidationFailure", "description")]


def test_a_reading_of_a_few_of_the_winners_words_is_no_conflict() -> None:
    kb = default_matcher().kb
    win, other = kb.get("UserErrorDTSDestLocked"), kb.get("ParallelSnapshotRequest")
    assert win is not None
    assert other is not None
    index, reading = _reading("Azure Files restore fails, a job is already running")
    reading = replace(reading, ranked=[(win, 30.0)], lead=2.5, rare=5, untold=False)
    agrees = Evidence(win, win.code, "message", 68.0, (10, 70))
    inner = Evidence(other, other.code, "message", 80.0, (30, 55))
    assert judge(index, reading, [agrees, inner]).sure
    elsewhere = replace(inner, span=(75, 100))
    assert judge(index, reading, [agrees, elsewhere]).why_not == ("conflict",)


def test_runners_up_are_suggested_after_the_winner() -> None:
    paste = prepare("backup of the VM to the vault fails, snapshot rg or msi permissions missing")
    found = description_evidence(default_matcher().descriptions, paste, [])
    assert len(found) >= 2
    assert all(ev.score < found[0].score for ev in found[1:])


def test_a_reading_too_weak_to_suggest_silences_no_symptom() -> None:
    kb = default_matcher().kb
    weak, strong = kb.get("UserErrorOlrNotSupported"), kb.get("UserErrorSkuNotAvailable")
    assert weak is not None
    assert strong is not None
    paste = prepare("Azure Backup restore of the VM failed, the VM size is not available")
    low = Evidence(weak, weak.code, "message", SUGGEST_SCORE - 10.0, (0, 60))
    symptom = Evidence(strong, strong.code, "symptom", 90.0, (0, 40))
    winners, _ = compete([low, symptom], paste)
    assert winners[0].code == strong.code
    assert winners[0].margin >= ANSWER_MARGIN


@pytest.mark.parametrize(
    ("code", "restores"),
    [
        ("DiskEncryptionInternalError", True),  # "Restore of an encrypted VM ..."
        ("UserErrorTooManyPrefixesGivenForBlobRestore", True),
        ("UserErrorRpCollectionLimitReached", False),  # a restore point is no restore
        ("UserErrorBackupPluginPodRestartedDuringBackup", False),
        ("UserErrorKeyvaultPermissionsNotConfigured", False),
    ],
)
def test_an_entry_says_whether_its_error_comes_from_a_restore(code: str, restores: bool) -> None:
    entry = default_matcher().kb.get(code)
    assert entry is not None
    assert of_restores(entry) is restores


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the restore job failed", True),
        ("file recovery of the VM fails", True),
        ("還原失敗", True),
        ("backup to the Recovery Services vault failed", False),
        ("the latest recovery point is two days old", False),
        ("復原服務保存庫的備份失敗", False),
    ],
)
def test_a_paste_speaks_of_a_restore(text: str, expected: bool) -> None:
    assert speaks_of_restore(text.lower()) is expected


def test_the_words_of_a_resource_id_describe_no_error() -> None:
    vm = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/"
        "Microsoft.Compute/virtualMachines/vm1"
    )
    found = analyse(
        f"backup extension failed somehow on {vm} (5f2c1e3a-1111-2222-3333-444455556666)"
    )
    assert found.matches == []  # "subscriptions", "providers", "Microsoft.Compute" are names here
    assert all(m.excerpt.lower() not in vm.lower() for m in found.suggestions)
