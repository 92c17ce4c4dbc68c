"""Code families: which family a code is in, what the paste says beside it, the data file."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml

from knowledge import KnowledgeBaseError
from knowledge.families import (
    FAMILIES_PATH,
    MAX_ANSWERS,
    default_families,
    family_answer,
    family_answers,
    load_families,
)
from knowledge.model import LANGS
from knowledge.service_message import MAX_MESSAGE, MAX_OPERATION

CODE = "BMSUserErrorMadeUpForTestsXyz"


# --- which family -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("UserErrorMadeUpForTestsXyz", "user-error"),
        ("usererrormadeupfortestsxyz", "user-error"),  # case does not matter
        (CODE, "bms-user-error"),  # not user-error: the longer prefix wins
        ("CloudInternalErrorMadeUp", "cloud"),
        ("DppUserErrorMadeUpForTests", "dpp-user-error"),
        ("DppMadeUpServiceError", "dpp"),
        ("ExtensionMadeUpFailure", "extension"),
        ("VMSnapshotLinuxMadeUpFailure", "extension"),
        ("GuestAgentMadeUpTimeout", "guest-agent"),
        ("WorkloadExtensionMadeUp", "workload"),
        ("WlExtMadeUpIOFault", "workload"),
        ("SalMadeUpScratchError", "mars"),
        ("CBPMadeUpReplicaError", "mabs-dpm"),
        ("DPMMadeUpAgentError", "mabs-dpm"),
        ("130047", "numeric"),
        ("0x8007FFFF", "hresult"),
        ("ZzMadeUpNoPrefix", "other"),
    ],
)
def test_each_code_finds_its_family(code: str, family: str) -> None:
    assert default_families().get(code).id == family


def test_every_family_speaks_both_languages_and_has_a_way_forward() -> None:
    families = default_families().families
    assert len({f.id for f in families}) == len(families)
    for family in families:
        for lang in LANGS:
            assert family.title.get(lang).strip()
            assert len(family.explanation.get(lang)) > 40
        assert family.steps, family.id
    zh = " ".join(f.explanation.zh_TW for f in families)
    assert "保存庫" in zh  # Taiwan usage, not 存储库/保管库
    assert "虚拟" not in zh  # no Simplified characters


# --- what the paste says beside the code ------------------------------------------------------

AZ_JOB = json.dumps(
    {
        "properties": {
            "errorDetails": [
                {"errorCode": "UserErrorOther", "errorString": "Not this one"},
                {"errorCode": CODE, "errorString": 'The item is "locked" by\n another operation'},
            ],
            "jobType": "AzureIaaSVMJob",
            "operation": "ConfigureBackup",
        }
    },
    indent=2,
)
ARM_ERROR = json.dumps(
    {"error": {"code": CODE, "message": "Input provided for the call is invalid"}}
)
AZ_CLI = f"""ERROR: (BadRequest) request failed
(
{CODE}) no
az backup protection enable-for-vm --vault-name v --vm vm1 --policy-name p
({CODE}) Protection is already configured for this item
Code: {CODE}
Message: Protection is already configured for this item"""
POWERSHELL = f"""WorkloadName     : vm-web-01
Operation        : ConfigureBackup
Status           : Failed
ErrorDetails     : {{Microsoft.Azure.Commands.RecoveryServices.Backup.Cmdlets.Models.ErrorInfo}}

ErrorCode        : {CODE}
ErrorMessage     : The policy cannot be applied to this item
Recommendations  : {{Check the policy}}"""
PORTAL = f"""Restore job failed
Error code
{CODE}
Error message
The target resource group is not valid for this restore
Recommended action
Pick another resource group"""
PORTAL_INLINE = f"Error code: {CODE}\nError message: The vault is in a state that does not allow it"
TERRAFORM = (
    "dataprotection.BackupInstancesClient#CreateOrUpdate: Failure sending request: StatusCode=0 "
    f'-- Original Error: Code="{CODE}" Message="Input provided for the call is invalid" '
    'AdditionalInfo=[{"info":{"code":"X"}}]'
)
MESSAGE_FIRST = json.dumps({"errorString": "Said before the code", "errorCode": CODE})


@pytest.mark.parametrize(
    ("paste", "message", "operation"),
    [
        (AZ_JOB, 'The item is "locked" by another operation', "ConfigureBackup"),
        (ARM_ERROR, "Input provided for the call is invalid", None),
        (
            AZ_CLI,
            "Protection is already configured for this item",
            "az backup protection enable-for-vm",
        ),
        (POWERSHELL, "The policy cannot be applied to this item", "ConfigureBackup"),
        (PORTAL, "The target resource group is not valid for this restore", "Restore"),
        (PORTAL_INLINE, "The vault is in a state that does not allow it", None),
        (TERRAFORM, "Input provided for the call is invalid", None),
        (MESSAGE_FIRST, "Said before the code", None),
        (f"Backup failed: {CODE}", None, None),  # nothing beside the code: nothing made up
    ],
    ids=["az-job", "arm", "az-cli", "powershell", "portal", "portal-inline", "terraform",
         "message-first", "bare"],
)  # fmt: skip
def test_message_and_operation_from_every_shape(
    paste: str, message: str | None, operation: str | None
) -> None:
    answer = family_answer(CODE, paste)
    assert answer.family.id == "bms-user-error"
    assert answer.message == message
    assert answer.operation == operation


def test_numeric_code_in_a_job_takes_its_error_string() -> None:
    job = '{"errorDetails": [{"errorCode": 130047, "errorString": "Made-up agent message"}]}'
    answer = family_answer("130047", job)
    assert answer.family.id == "numeric"
    assert answer.message == "Made-up agent message"


def test_a_message_of_another_error_is_not_borrowed() -> None:
    paste = f'[{{"errorCode": "{CODE}"}}, {{"errorCode": "UserErrorB", "errorString": "B only"}}]'
    assert family_answer(CODE, paste).message is None


def test_operation_from_a_powershell_cmdlet() -> None:
    paste = f"Restore-AzRecoveryServicesBackupItem : {CODE}: The storage account is not valid"
    answer = family_answer(CODE, paste)
    assert answer.operation == "Restore-AzRecoveryServicesBackupItem"
    assert answer.message == "The storage account is not valid"


def test_search_link_in_the_readers_language() -> None:
    answer = family_answer(CODE, CODE)
    assert answer.search_url("en") == f"https://learn.microsoft.com/en-us/search/?terms={CODE}"
    assert answer.search_url("zh-TW") == f"https://learn.microsoft.com/zh-tw/search/?terms={CODE}"
    odd = family_answer("Bad&Code <x>", "")
    assert "<" not in odd.search_url("en")
    assert "&" not in odd.search_url("en").split("?", 1)[1]


def test_hostile_and_long_input_is_bounded_and_cleaned() -> None:
    long = f"{CODE}\nMessage: " + "\x1b[31mred\u202e " + "word " * 5000
    answer = family_answer(CODE, long + '\n"operation": "' + "Op" * 500 + '"')
    assert answer.message is not None
    assert len(answer.message) <= MAX_MESSAGE
    assert "\x1b" not in answer.message
    assert "\u202e" not in answer.message
    assert answer.operation is not None
    assert len(answer.operation) <= MAX_OPERATION
    surrogate = json.dumps({"code": CODE, "message": "smile \\ud83d then"}).replace("\\\\", "\\")
    message = family_answer(CODE, surrogate).message
    assert message is not None
    message.encode("utf-8")  # a lone surrogate would not encode


@pytest.mark.parametrize(
    "paste",
    [
        f"{CODE} " * 20000,
        '"message": "' + "\\" * 60000,
        f"({CODE}) " + "(" * 60000,
        f"{CODE}\nMessage:" + " \t" * 30000,
        "x" * 200_000 + CODE,
    ],
)
def test_pathological_pastes_answer_quickly(paste: str) -> None:
    start = time.perf_counter()
    family_answer(CODE, paste)
    assert time.perf_counter() - start < 2.0


def test_answers_are_one_per_code_and_capped() -> None:
    codes = [CODE, CODE.lower(), "UserErrorA1", "UserErrorB2", "UserErrorC3", "UserErrorD4"]
    answers = family_answers(codes, "")
    assert [a.code for a in answers] == [CODE, "UserErrorA1", "UserErrorB2"][:MAX_ANSWERS]
    assert family_answers([], "anything") == []


# --- the data file ----------------------------------------------------------------------------


def write_broken(tmp_path: Path, change: str) -> Path:
    data = yaml.safe_load(FAMILIES_PATH.read_text(encoding="utf-8"))
    families = data["families"]
    if change == "two rules":
        families[0]["pattern"] = "x+"
    elif change == "duplicate prefix":
        families[1]["prefixes"].append("UserError")
    elif change == "no fallback":
        data["families"] = [f for f in families if not f.get("fallback")]
    elif change == "bad pattern":
        next(f for f in families if f.get("pattern"))["pattern"] = "([0-9"
    elif change == "missing zh-TW":
        del families[2]["title"]["zh-TW"]
    path = tmp_path / "families.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "family", "field"),
    [
        ("two rules", "user-error", None),
        ("duplicate prefix", "bms-user-error", "prefixes.1"),
        ("no fallback", None, "families"),
        ("bad pattern", "numeric", None),
        ("missing zh-TW", "cloud", "title.zh-TW"),
    ],
)
def test_a_defect_names_file_family_and_field(
    tmp_path: Path, change: str, family: str | None, field: str | None
) -> None:
    path = write_broken(tmp_path, change)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_families(path)
    assert caught.value.path == path
    assert caught.value.entry == family
    if field is not None:
        assert caught.value.field == field


def test_kb_check_validates_a_folders_own_families(tmp_path: Path) -> None:
    from knowledge.check import check_kb
    from knowledge.loader import DATA_DIR

    kb = tmp_path / "kb"
    shutil.copytree(DATA_DIR, kb)
    assert "code families" in check_kb(kb)
    write_broken(tmp_path, "no fallback").replace(kb / "families.yaml")
    with pytest.raises(KnowledgeBaseError):
        check_kb(kb)
