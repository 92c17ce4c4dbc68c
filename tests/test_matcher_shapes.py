"""The matcher on what people actually paste: cut and wrapped codes, ids, symptoms, workloads,
unknown codes and Resource Manager codes beside backup ones.

Most cases run on a small knowledge base built here, so that they do not move when the shipped
one grows; a few check the shipped one for shapes its codes must survive.
"""

from __future__ import annotations

from typing import Any

import pytest

from knowledge import analyse
from knowledge.loader import KnowledgeBase
from knowledge.matcher import ANSWER_SCORE, SUGGEST_SCORE, Matcher
from knowledge.model import Entry
from knowledge.signals import workloads

AGENT = "UserErrorGuestAgentStatusUnavailable"
PROVISIONING = "UserErrorVmProvisioningStateFailed"
AGENT_MESSAGE = "VM Agent unable to communicate with Azure Backup"
LIMIT = (
    "Operation is blocked as you have reached the limit on number of operations permitted in "
    "24 hours."
)


def _entry(
    code: str,
    workload: str,
    messages: list[str],
    *,
    symptoms: tuple[str, ...] = (),
    numeric: tuple[int, ...] = (),
    aliases: tuple[str, ...] = (),
    generic: bool = False,
) -> Entry:
    data: dict[str, Any] = {
        "code": code,
        "workload": workload,
        "generic": generic,
        "numeric_codes": list(numeric),
        "aliases": [{"code": a} for a in aliases],
        "title": {"en": code, "zh-TW": code},
        "messages": [{"text": t} for t in messages],
        "symptoms": [{"text": t} for t in symptoms],
        "summary": {"en": "-", "zh-TW": "-"},
        "docs": [{"article": "snapshot-timeout"}],
    }
    return Entry.model_validate(data)


ENTRIES = (
    _entry(
        AGENT,
        "vm",
        [AGENT_MESSAGE],
        symptoms=("walinuxagent service is not running on the Linux VM",),
    ),
    _entry(PROVISIONING, "vm", ["VM is in failed provisioning state"]),
    _entry(
        "UserErrorRpCollectionLimitReached",
        "vm",
        ["The Restore Point collection max limit has reached."],
        numeric=(123456,),
    ),
    _entry(
        "ExtensionOperationFailedForManagedDisks",
        "vm",
        ["VMSnapshot extension operation failed"],
        aliases=("ExtentionOperationFailedForManagedDisks",),
    ),
    _entry(
        "ExtensionSnapshotFailedNoNetwork",
        "vm",
        ["Snapshot operation failed due to no network connectivity on the virtual machine"],
    ),
    _entry("ExtensionSnapshotFailedCOM", "vm", ["Snapshot operation failed due to COM+ error"]),
    _entry(
        "UserErrorSkuNotAvailable",
        "vm",
        ["VM creation failed as VM size selected is not available."],
    ),
    _entry(
        "UserErrorCrossSubscriptionRestoreNotSupportedForTrustedLaunchAzureVM",
        "vm",
        ["Cross Subscription Restore is not supported for Trusted Launch VMs."],
    ),
    _entry(
        "UserErrorCrossSubscriptionRestoreNotSupportedForOLR",
        "vm",
        ["Cross Subscription Restore is not supported for Original Location Recovery."],
    ),
    _entry(
        "UserErrorVmNotFoundInDeleteState",
        "vm",
        ["The virtual machine was deleted while the backup was in progress."],
    ),
    _entry("BackUpOperationFailedV2", "vm", ["Backup failed with an internal error"]),
    _entry(
        "UserErrorPVNotFound",
        "aks",
        ["The persistent volume referenced by the claim was not found."],
    ),
    _entry(
        "UserErrorBackupFailedAsTransactionLogIsFull",
        "sql",
        ["Backup failed as the transaction log for the database is full."],
    ),
    _entry(
        "34513",
        "mars",
        [
            "Invalid vault credentials provided. The file is either corrupted or doesn't have the "
            "latest credentials associated with recovery service. (ID: 34513)"
        ],
    ),
    _entry(
        "100050",
        "mars",
        [
            "The Microsoft Azure Recovery Service Agent was unable to connect to Microsoft Azure "
            "Backup. (ID: 100050) Check your network settings and ensure that you're able to "
            "connect to the internet."
        ],
    ),
    _entry(
        "34506",
        "mars",
        ["The encryption passphrase stored on this computer is not correctly configured."],
    ),
    _entry(
        "FileFaultFault",
        "mabs-dpm",
        ["DPM encountered an error from VMware while trying to get ChangeTracking information."],
        numeric=(33621,),
    ),
    _entry(
        "2013", "mabs-dpm", ["Setting up email notifications using a work or school account failed"]
    ),
    _entry("403", "mars", ["Failed to download the vault credential file."]),
    _entry("0x1FC07", "mars", ["The activation did not complete successfully."]),
    _entry("0x80070005", "mars", ["Access Is Denied"]),
    _entry("OlrBackupFailed", "restore", ["Failed to take snapshot of the VM"]),
    _entry(
        "UserErrorSnapshotRGNotFound",
        "disk",
        ["Could not perform the operation as Snapshot Data store Resource Group does not exist."],
    ),
    _entry(
        "UserErrorInvalidOperationalStoreResourceGroup",
        "disk",
        ["Snapshot Data store Resource Group provided is invalid"],
    ),
    _entry(
        "UserErrorRestoreTargetRGNotFound",
        "disk",
        ["Operation failed as the Target Resource Group does not exist."],
    ),
    _entry("CloudDosAbsoluteLimitReached", "sql", [LIMIT]),
    _entry("UserErrorHanaDosLimitReached", "sap-hana", [LIMIT]),
    _entry(
        "AuthorizationFailed",
        "arm",
        ["The client does not have authorization to perform action over scope"],
        generic=True,
    ),
    _entry(
        "RequestDisallowedByPolicy", "arm", ["Resource was disallowed by policy."], generic=True
    ),
)
KB = KnowledgeBase(
    ENTRIES,
    {},
    {},
    {
        c.casefold(): e
        for e in ENTRIES
        for c in [*e.all_codes, *(a.code for a in e.aliases), *map(str, e.numeric_codes)]
    },
)
MATCHER = Matcher(KB)


def answered(text: str) -> list[str]:
    """The codes answered unasked, best first."""
    return [m.code for m in MATCHER.analyse(text).matches]


def suggested(text: str) -> list[str]:
    return [m.code for m in MATCHER.analyse(text).suggestions]


# ----- 1. codes cut off at the end of a log line -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27T02:14:09Z ERROR job=4b7a vm=app-07 code=UserErrorGuestAgentStat",
        "Error code: UserErrorGuestAgentStatusUnav",
        "ERROR code=UserErrorCrossSubscriptionRestoreNotSupportedForTrus",
    ],
)
def test_a_code_cut_mid_word_is_the_one_code_it_starts(text: str) -> None:
    found = MATCHER.analyse(text).matches
    assert len(found) == 1
    assert found[0].via == "truncated_code"
    assert ANSWER_SCORE <= found[0].score < 100
    assert MATCHER.analyse(text).unknown_codes == []


@pytest.mark.parametrize(
    "text",
    [
        "ERROR code=UserErrorCrossSubscriptionRestoreNotSupportedFor",  # two codes start so
        "ERROR code=UserErrorGuestA",  # under 16 letters: too little to tell
    ],
)
def test_a_cut_code_that_fits_several_or_is_too_short_is_not_answered(text: str) -> None:
    assert answered(text) == []


def test_a_prefix_ending_on_a_failure_word_may_be_a_code_of_its_own() -> None:
    text = "SQL log backup job: UserErrorBackupFailed"
    result = MATCHER.analyse(text)
    assert result.matches == []
    assert result.unknown_codes == ["UserErrorBackupFailed"]


def test_shipped_kb_cut_code() -> None:
    found = analyse("[ERROR] 02:14:09 backup job failed code=UserErrorGuestAgentStatusUn").matches
    assert [m.code for m in found] == [AGENT]


# ----- 2. codes wrapped across lines ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'Code="UserErrorVmProvisioning\nStateFailed"',
        '│ Error: waiting for protection: Code="UserErrorVmProvisioning\n│ StateFailed" '
        'Message="VM is in failed provisioning state"',
        "Status: Failed ErrorCode: UserErrorVmProvisioning\n      StateFailed",
        '{"code": "UserErrorVmProvisioning\\nStateFailed"}',
    ],
    ids=["plain", "terraform", "indented", "json-escaped"],
)
def test_a_code_wrapped_across_lines_is_rejoined(text: str) -> None:
    found = MATCHER.analyse(text).matches
    assert [m.code for m in found] == [PROVISIONING]
    assert found[0].via == "code"
    assert found[0].score >= 100 - 3


def test_a_code_wrapped_twice_is_rejoined() -> None:
    text = (
        "│ Error: restoring: Code=UserErrorCrossSubscriptionRestore\n"
        "│ NotSupportedForTrustedLaunch\n│ AzureVM"
    )
    assert answered(text) == [
        "UserErrorCrossSubscriptionRestoreNotSupportedForTrustedLaunchAzureVM"
    ]


def test_two_codes_on_two_lines_stay_two() -> None:
    text = f"vm01: {AGENT}\nUserErrorRpCollectionLimitReached on vm02"
    assert sorted(answered(text)) == sorted([AGENT, "UserErrorRpCollectionLimitReached"])


def test_only_a_line_break_rejoins() -> None:
    assert answered("ExtensionSnapshot\nFailedNoNetwork") == ["ExtensionSnapshotFailedNoNetwork"]
    assert answered("ExtensionSnapshot FailedNoNetwork") == []


# ----- 3. numeric and hexadecimal ids ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Error code: 100050", "100050"),
        ("Invalid vault credentials provided. The file is corrupted. (ID: 34513)", "34513"),
        ("DPM: online recovery point creation for VMware VM failed, ID 33621", "FileFaultFault"),
        ("Error 34506. The passphrase on this computer is wrong.", "34506"),
        ("Setting up email notifications: Error ID: 2013", "2013"),
        ("Activation failed: internal service error [0x1FC07]. Retry later.", "0x1FC07"),
        ("MARS agent registration: (ID: 403)", "403"),
        (
            r"C:\Program Files\Microsoft Azure Recovery Services Agent\Temp"
            "\\LastBackupFailedFiles4f2a.txt\n"
            r"D:\Finance\2026\q3-forecast.xlsx    0x80070005",
            "0x80070005",
        ),
        (
            '{"properties": {"jobType": "AzureIaaSVMJob", "status": "Failed", "errorDetails": '
            '[{"errorCode": 123456, "errorString": "see details"}]}}',
            "UserErrorRpCollectionLimitReached",
        ),
        ("`0x80070005` again on DC01 System State :(", "0x80070005"),
        ("100050", "100050"),
        ("0x80070005", "0x80070005"),
    ],
)
def test_an_id_in_its_context_names_its_error(text: str, code: str) -> None:
    found = MATCHER.analyse(text).matches
    assert [m.code for m in found][:1] == [code]
    assert found[0].via in ("numeric_code", "message")


@pytest.mark.parametrize(
    "text",
    [
        "I waited 100050 ms and the portal still spins",
        "ticket 34513 is closed, thanks",
        "got Error 403 from the storage API again",
        "session id 2013 logged off",
        "the copy finished with 0x80070005 on my laptop",
    ],
)
def test_a_number_in_chatter_answers_nothing(text: str) -> None:
    assert answered(text) == []


def test_a_bare_id_in_a_backup_paste_is_a_suggestion() -> None:
    result = MATCHER.analyse("the MARS backup finished after 100050 seconds")
    assert result.matches == []
    assert "100050" in [m.code for m in result.suggestions]


# ----- 4. symptoms ------------------------------------------------------------------------


SYMPTOM = "walinuxagent service is not running on the Linux VM"


def test_a_symptom_alone_is_a_suggestion() -> None:
    result = MATCHER.analyse(SYMPTOM)
    assert result.matches == []
    assert [(m.code, m.via) for m in result.suggestions] == [(AGENT, "symptom")]
    assert SUGGEST_SCORE <= result.suggestions[0].score < ANSWER_SCORE


@pytest.mark.parametrize(
    "text",
    [
        f"nightly backup of app-07 failed again: {SYMPTOM}",
        f"the vault says the job failed, and on the box {SYMPTOM.lower()}",
        "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/rg-app/providers/"
        f"Microsoft.Compute/virtualMachines/app-07 -> {SYMPTOM}",
    ],
    ids=["backup", "vault-job", "resource-id"],
)
def test_a_symptom_with_backup_context_answers(text: str) -> None:
    found = MATCHER.analyse(text).matches
    assert [(m.code, m.via) for m in found] == [(AGENT, "symptom")]


def test_code_and_message_evidence_beat_symptom_evidence() -> None:
    text = f"backup job failed: UserErrorRpCollectionLimitReached; also {SYMPTOM}"
    result = MATCHER.analyse(text)
    assert [m.code for m in result.matches] == ["UserErrorRpCollectionLimitReached"]
    assert [(m.code, m.via) for m in result.suggestions] == [(AGENT, "symptom")]


def test_a_symptom_inside_a_message_does_not_cast_doubt_on_it() -> None:
    kb_entries = (
        *ENTRIES[:1],
        _entry(
            "ExtensionSnapshotFailedNoNetwork",
            "vm",
            ["Snapshot failed"],
            symptoms=("VM Agent unable to communicate",),
        ),
    )
    kb = KnowledgeBase(kb_entries, {}, {}, {e.code.casefold(): e for e in kb_entries})
    found = Matcher(kb).analyse(f"Azure Backup job: {AGENT_MESSAGE}").matches
    assert [(m.code, m.via) for m in found] == [(AGENT, "message")]


# ----- 5. a message is found wherever it sits in a long paste ---------------------------------


def test_a_message_at_the_end_of_a_log_of_look_alike_retry_lines() -> None:
    retry = (
        "2026-11-27T02:{m:02d}:11Z [WARN] VM agent unable to communicate with Azure endpoint "
        "168.63.129.16, retry {m} of 40 with backup plugin\n"
    )
    log = "".join(retry.format(m=m) for m in range(40))
    log += "2026-11-27T02:41:00Z [ERROR] Take snapshot failed: " + AGENT_MESSAGE + "\n"
    found = MATCHER.analyse(log).matches
    assert [m.code for m in found] == [AGENT]
    assert AGENT_MESSAGE.lower() in found[0].excerpt.lower()


def test_a_message_past_the_first_look_alikes_of_a_mars_log() -> None:
    retry = (
        "2026-11-27 02:{m:02d}:11 CBEngine WARN the Microsoft Azure Recovery Service Agent could "
        "not reach Microsoft Azure Backup endpoint, unable to connect (attempt {m} of 30)\n"
    )
    log = "".join(retry.format(m=m) for m in range(30))
    last = len(log)
    log += (
        "2026-11-27 02:41:00 CBEngine ERROR The Microsoft Azure Recovery Service Agent was unable "
        "to connect to Microsoft Azure Backup.\n"
    )
    found = MATCHER.analyse(log).matches
    assert [m.code for m in found] == ["100050"]
    assert found[0].via == "message"
    assert found[0].span[0] >= last


def test_three_words_of_a_message_are_a_hint_unless_the_paste_cut_it_short() -> None:
    other_product = "Arcserve UDP: the job failed. Failed to take snapshot. The volume is too small"
    assert answered(other_product) == []
    assert answered("restore warning: 'Failed to take snapshot ...' on vm01") == ["OlrBackupFailed"]
    assert answered("restore warning: Failed to take snapshot of the VM") == ["OlrBackupFailed"]


def test_a_reading_of_some_of_the_words_casts_no_doubt_on_one_of_all_of_them() -> None:
    text = "Azure Disk Backup fails: the snapshot data store resource group doesn't exist."
    assert answered(text) == ["UserErrorSnapshotRGNotFound"]


# ----- 6. the workload the paste names breaks ties -----------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            f"SAP HANA log backups on hana01 (hdbsql works fine): {LIMIT}",
            "UserErrorHanaDosLimitReached",
        ),
        (f"backint says: {LIMIT}", "UserErrorHanaDosLimitReached"),
        (f"SQL Server database sales on sqlvm01: {LIMIT}", "CloudDosAbsoluteLimitReached"),
        (f"MSSQLSERVER\\SalesDB log backup failed. {LIMIT}", "CloudDosAbsoluteLimitReached"),
    ],
)
def test_the_named_workload_breaks_a_tie(text: str, code: str) -> None:
    assert answered(text)[:1] == [code]


def test_a_message_of_another_workload_than_the_one_named_only_suggests() -> None:
    text = (
        "SAP HANA log backup failed: Backup failed as the transaction log for the database is full."
    )
    result = MATCHER.analyse(text)
    assert result.matches == []
    # Set aside, the message leaves the paste to its description, which may suggest more.
    assert [m.code for m in result.suggestions][:1] == [
        "UserErrorBackupFailedAsTransactionLogIsFull"
    ]
    assert answered(text.replace("SAP HANA", "SQL Server")) == [
        "UserErrorBackupFailedAsTransactionLogIsFull"
    ]


def test_without_a_workload_a_tie_is_only_suggested() -> None:
    result = MATCHER.analyse(f"backup failed: {LIMIT}")
    assert result.matches == []
    assert {m.code for m in result.suggestions} >= {
        "CloudDosAbsoluteLimitReached",
        "UserErrorHanaDosLimitReached",
    }


@pytest.mark.parametrize(
    ("text", "workload"),
    [
        ("hdbsql -U AZUREWLBACKUPHANAUSER", "sap-hana"),
        ("the MARS agent (OBEngine) crashed", "mars"),
        ("Cannot connect to CBEngine", "mars"),
        ("DPM 2022 server", "mabs-dpm"),
        ("the file share payroll on stpayroll", "azure-files"),
        ("AFS backup", "azure-files"),
        ("blob container images", "blob"),
        ("PostgreSQL flexible server", "postgresql"),
        ("MySQL flexible server", "mysql"),
        ("the snapshot RG rg-snaps", "disk"),
        ("AKS cluster aks-prod", "aks"),
        ("SQL Server 2019", "sql"),
    ],
)
def test_workload_words(text: str, workload: str) -> None:
    assert workloads(text.lower()) == frozenset({workload})


def test_workload_words_are_words() -> None:
    assert workloads("postgresql and mysql") == frozenset({"postgresql", "mysql"})
    assert "sql" not in workloads("postgresql")
    assert workloads("lunch at the mars bar?") == frozenset({"mars"})  # a hint only, see above
    assert workloads("the backup failed") == frozenset()


# ----- 7. unknown codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "UserErrorVmNotFoundInDeletedState",  # one letter from UserErrorVmNotFoundInDeleteState
        "UserErrorDBNotFound",  # two from UserErrorPVNotFound: a whole word swapped
        "UserErrorGuestAgentStateUnavailable",  # State is not Status
        "BackUpOperationFailedV3",  # not V2
        "UserErrorCrossSubscriptionRestoreNotSupportedForALR",  # not OLR
        "ExtensionSnapshotFailedNoNetworkAccess",  # a word added
    ],
)
def test_an_unknown_code_is_never_answered_as_a_near_one(code: str) -> None:
    result = MATCHER.analyse(f"backup job failed with {code}")
    assert result.matches == []
    assert all(m.via != "fuzzy_code" for m in result.suggestions)
    assert result.unknown_codes == [code]


@pytest.mark.parametrize(
    ("typo", "code"),
    [
        ("UserErrorGuestAgentStatusUnavailible", AGENT),
        ("UserErorrGuestAgentStatusUnavailable", AGENT),
        ("ExtentionSnapshotFailedNoNetwork", "ExtensionSnapshotFailedNoNetwork"),
        ("ExtentionOperationFailedForManagedDisks", "ExtensionOperationFailedForManagedDisks"),
        ("UserErrorSkuNotAvailabel", "UserErrorSkuNotAvailable"),
    ],
)
def test_real_typos_still_answer(typo: str, code: str) -> None:
    result = MATCHER.analyse(f"job failed: {typo}")
    assert [m.code for m in result.matches] == [code]
    assert result.unknown_codes == []


def test_unknown_codes_in_order_of_appearance_once_each() -> None:
    text = (
        "CloudInternalOperationFailed on vm01, then UserErrorFooBarNotReady on vm02, "
        f"{AGENT} on vm03, CloudInternalOperationFailed again on vm04, "
        "and DppUserErrorVaultTierPolicyNotSupported"
    )
    result = MATCHER.analyse(text)
    assert [m.code for m in result.matches] == [AGENT]
    assert result.unknown_codes == [
        "CloudInternalOperationFailed",
        "UserErrorFooBarNotReady",
        "DppUserErrorVaultTierPolicyNotSupported",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "run it in PowerShell with -ResourceGroupName rg-prod",
        "Compute said VMExtensionProvisioningError for the custom script extension",
        "CloudFormationStackFailed in the AWS account",
        "Get-AzRecoveryServicesBackupJob -Status Failed | Format-List",
        "SalesforceSyncFailed again",
        "ProvisioningState Succeeded, DisplayStatus VM running",
    ],
)
def test_plain_camel_case_words_are_not_codes(text: str) -> None:
    assert MATCHER.analyse(text).unknown_codes == []


def test_shipped_kb_unknown_code() -> None:
    result = analyse("UserErrorGuestAgentStateUnavailable on vm01")
    assert result.matches == []
    assert result.unknown_codes == ["UserErrorGuestAgentStateUnavailable"]


# ----- 8. Resource Manager codes beside backup codes --------------------------------------


def test_a_backup_code_ranks_before_a_resource_manager_code() -> None:
    text = (
        "Azure Backup job failed.\nAuthorizationFailed: The client does not have authorization "
        "to perform action over scope\nthen UserErrorRpCollectionLimitReached"
    )
    assert answered(text) == ["UserErrorRpCollectionLimitReached", "AuthorizationFailed"]


@pytest.mark.parametrize(
    "text",
    [
        "New-AzVM: SkuNotAvailable: The requested size is not available in location westeurope",
        '{"error": {"code": "RequestDisallowedByPolicy", "message": "Resource was disallowed by '
        'policy."}}',
    ],
)
def test_a_compute_or_arm_code_is_not_the_backup_code_it_shares_words_with(text: str) -> None:
    result = MATCHER.analyse(text)
    read_as_codes = {m.code for m in result.matches + result.suggestions if m.via != "message"}
    assert read_as_codes <= {"RequestDisallowedByPolicy"}
    assert result.matches == []  # no backup context: a generic code doesn't answer unasked


# ----- messages that say something is not so, and look-alike parts of messages -------------

_SMALL = (
    _entry("UserErrorHanaPreScriptNotRun", "sap-hana", ["Pre-registration script not run."]),
    _entry(
        "CannotConnectToCBEngine",
        "mars",
        ["The Microsoft Azure Recovery Services Agent cannot connect to the OBEngine service."],
    ),
    _entry("SalVhdInitializationError", "mars", ["Failed to initialize the scratch VHD."]),
    _entry(
        "MarsScratchTest",
        "mars",
        ["The Microsoft Azure Recovery Services Agent could not reach the scratch location."],
    ),
    _entry(
        "MarsCredentialsTest",
        "mars",
        ["The Microsoft Azure Recovery Services Agent failed to read the vault credentials."],
    ),
)


def _small_readings(text: str) -> list[tuple[str, str]]:
    kb = KnowledgeBase(_SMALL, {}, {}, {e.code.casefold(): e for e in _SMALL})
    found = Matcher(kb).candidates(text, limit=5, min_score=0)
    return [(m.code, m.via) for m in found if m.via == "message"]


def test_a_paste_saying_what_a_message_negates_is_no_reading_of_it() -> None:
    hana = ("UserErrorHanaPreScriptNotRun", "message")
    assert hana in _small_readings("HANA backups fail: Pre-registration script not run.")
    assert hana in _small_readings("HANA backup: the pre-registration script was not run")
    assert _small_readings("HANA backups fail, do I re-run the pre-registration script?") == []


@pytest.mark.parametrize(
    "text",
    [
        "The MARS agent can't connect to the OBEngine service",
        "The MARS agent could not connect to the OBEngine service",
        "The MARS agent is unable to connect to the OBEngine service",
        "The MARS agent is not able to connect to the OBEngine service",
    ],
)
def test_cannot_reads_alike_however_it_is_written(text: str) -> None:
    assert ("CannotConnectToCBEngine", "message") in _small_readings(text)


def test_a_part_of_a_message_without_its_rarest_words_is_a_look_alike() -> None:
    # The agent's name starts many of its messages: it names none of them.
    text = "Microsoft Azure Recovery Services Agent cannot initialize the VHD in the scratch folder"
    assert ("CannotConnectToCBEngine", "message") not in _small_readings(text)
