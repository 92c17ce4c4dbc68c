"""The matcher, one test per shape of paste, on the shipped knowledge base."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge import analyse, match
from knowledge.lang import detect_lang
from knowledge.matcher import ANSWER_SCORE, MAX_PASTE_BYTES, default_matcher
from knowledge.text import clean, cut

AGENT = "UserErrorGuestAgentStatusUnavailable"
RP = "UserErrorRpCollectionLimitReached"


def codes(text: str) -> list[str]:
    return [m.code for m in match(text)]


@pytest.mark.parametrize(
    "text",
    [
        AGENT,
        AGENT.lower(),
        AGENT.upper(),
        f"Code: {AGENT}",
        f"errorCode={AGENT};",
        f'{{"error": {{"code": "{AGENT}", "message": "x"}}}}',
        f"backup of vm01 failed with {AGENT} again, anyone?",
        f"```\n{AGENT}\n```",
        f"*{AGENT}*",
        f"2026-11-27T22:41:09.381Z ERROR job=4b7a code={AGENT} status=Failed",
    ],
    ids=[
        "plain",
        "lower",
        "upper",
        "code-colon",
        "key-value",
        "json",
        "sentence",
        "fence",
        "bold",
        "log",
    ],
)
def test_code_anywhere_case_insensitive(text: str) -> None:
    found = match(text)
    assert [m.code for m in found] == [AGENT]
    assert found[0].via == "code"
    assert found[0].score == 100


def test_json_with_escaped_quotes_twice() -> None:
    inner = json.dumps(
        {"error": {"code": RP, "message": "The Restore Point collection max limit has reached."}}
    )
    outer = json.dumps({"properties": {"statusDetails": json.dumps({"body": inner})}})
    assert '\\\\\\"' in outer  # the code sits behind two levels of escaping
    assert codes(outer) == [RP]


def test_az_cli_error_output() -> None:
    text = (
        f"ERROR: ({AGENT}) VM Agent unable to communicate with Azure Backup\n"
        f"Code: {AGENT}\nMessage: VM Agent unable to communicate with Azure Backup"
    )
    found = match(text)
    assert [m.code for m in found] == [AGENT]
    assert found[0].score == 100


def test_powershell_table() -> None:
    text = (
        "WorkloadName     Operation  Status  StartTime              EndTime\n"
        "------------     ---------  ------  ---------              -------\n"
        "vm-sql-02        Backup     Failed  11/27/2026 10:02:11 PM 11/27/2026 10:23:40 PM\n\n"
        "ErrorCode    : UserErrorRpCollectionLimitReached\n"
        "ErrorMessage : The Restore Point collection max limit has reached.\n"
    )
    assert codes(text) == [RP]


def test_alias_is_answered_as_the_current_code() -> None:
    found = match("ExtentionOperationFailedForManagedDisks on vm01")
    assert [m.code for m in found] == ["ExtensionOperationFailedForManagedDisks"]
    assert found[0].via == "alias"


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("UserErrorGuestAgentStatusUnavailabe", AGENT),  # one letter dropped
        ("UserErorrGuestAgentStatusUnavailable", AGENT),  # two letters swapped
        ("UserErrorRpColectionLimitReachd", RP),  # two typos
    ],
)
def test_misspelt_codes(typo: str, expected: str) -> None:
    found = match(f"job failed: {typo}")
    assert [m.code for m in found] == [expected]
    assert found[0].via == "fuzzy_code"
    assert found[0].score >= ANSWER_SCORE


def test_three_typos_are_too_many() -> None:
    assert codes("UsrErorGuestAgntStatusUnavailable") == []


@pytest.mark.parametrize(
    "text",
    [
        "VM Agent unable to communicate with Azure Backup",
        "VM agent is unable to communicate with the Azure Backup Service.",
        "Error: vm agent unable to communicate with azure backup. Please check the VM agent.",
    ],
    ids=["docs", "service", "trailing-advice"],
)
def test_full_and_variant_messages(text: str) -> None:
    found = match(text)
    assert [m.code for m in found] == [AGENT]
    assert found[0].via == "message"


def test_partial_message_is_at_least_a_suggestion() -> None:
    result = analyse("unable to communicate with azure backup")
    assert AGENT in [m.code for m in result.matches + result.suggestions]


def test_zh_tw_message() -> None:
    result = analyse("備份失敗：VM 代理程式無法與 Azure 備份通訊")
    assert [m.code for m in result.matches] == [AGENT]
    assert result.lang == "zh-TW"


def test_several_errors_each_once_ranked() -> None:
    text = (
        f"vm01: {AGENT}\nvm02: {RP}\nvm03: {AGENT} again\n"
        "vm04: Backup failed with an internal error - Please retry the operation in a few minutes"
    )
    found = codes(text)
    assert sorted(found) == sorted([AGENT, RP, "BackUpOperationFailed"])
    assert len(found) == len(set(found))


def test_code_and_message_of_one_error_make_one_match() -> None:
    text = f'{{"code": "{RP}", "message": "The Restore Point collection max limit has reached."}}'
    assert codes(text) == [RP]


def test_backupoperationfailedv2_code_is_reported_as_itself() -> None:
    assert codes("BackUpOperationFailedV2") == ["BackUpOperationFailedV2"]


@pytest.mark.parametrize(
    "text",
    [
        "the backup of vm01 failed again last night, can someone check the agent?",
        "snapshot extension updated on all prod VMs",
        "who owns the recovery services vault in prod?",
        "備份今天又失敗了嗎？",
        "pg_basebackup: error: another backup operation is in progress",
        "lunch?",
        "",
    ],
)
def test_chatter_and_lookalikes_stay_silent(text: str) -> None:
    assert codes(text) == []


def test_generic_code_needs_backup_context() -> None:
    assert codes("ResourceNotFound: the storage blob was not found") == []
    assert codes("Azure Backup job failed: ResourceNotFound (vault-prod)") == ["ResourceNotFound"]


def test_excerpt_is_the_part_that_matched() -> None:
    found = match(f"2026-11-27 22:41 vm01 backup: {RP} (see portal)")
    assert found[0].excerpt == RP
    text = "hello team. The Restore Point collection max limit has reached. thanks"
    found = match(text)
    assert "Restore Point collection max limit" in found[0].excerpt
    start, end = found[0].span
    assert end - start <= len(text)


def test_limit_and_min_score() -> None:
    text = f"{AGENT} {RP} BackUpOperationFailed"
    assert len(match(text, limit=2)) == 2
    loose = analyse("unable to communicate with azure backup")
    assert loose.matches == [] or loose.matches[0].score >= ANSWER_SCORE
    assert match("unable to communicate with azure backup", min_score=50, min_margin=0)


def test_long_paste_is_cut_not_crashed() -> None:
    filler = "INFO nothing to see here\n" * 5000  # ~120 KB
    tail = analyse(filler + AGENT)
    assert tail.truncated is True
    assert tail.matches == []
    head = analyse(AGENT + "\n" + filler)
    assert head.truncated is True
    assert [m.code for m in head.matches] == [AGENT]


def test_cut_never_splits_a_character() -> None:
    text, was_cut = cut("備" * 30000)  # 3 bytes each
    assert was_cut
    assert len(text.encode()) <= MAX_PASTE_BYTES
    assert set(text) == {"備"}


def test_clean_undoes_slack_and_json_markup() -> None:
    assert clean("&lt;b&gt; &amp; <https://x.test/a|the doc>") == "<b> & the doc (https://x.test/a)"
    assert clean('{\\"code\\": \\"X\\"}') == '{"code": "X"}'
    assert clean("The VM isn't ready") == "The VM is not ready"
    assert clean("\\u5099\\u4efd") == "備份"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (AGENT, None),
        ("請問 UserErrorGuestAgentStatusUnavailable 怎麼處理？", "zh-TW"),
        ("VM 代理程式無法與 Azure 備份通訊", "zh-TW"),
        ("the backup failed", "en"),
        ('{"code": "UserErrorRpCollectionLimitReached"}', None),
        ("https://portal.azure.com/#blade 12345", None),
    ],
)
def test_language_of_a_paste(text: str, lang: str | None) -> None:
    assert detect_lang(text) == lang


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_never_raises_on_any_unicode(text: str) -> None:
    result = analyse(text)
    assert all(0 <= m.score <= 100 for m in result.matches + result.suggestions)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.text(min_size=1, max_size=40).map(lambda s: s * (70_000 // len(s) + 1)))
def test_never_raises_on_pastes_over_64_kib(text: str) -> None:
    result = analyse(text)
    assert result.truncated == (len(text.encode("utf-8", "surrogatepass")) > MAX_PASTE_BYTES)


def test_every_code_and_message_of_the_kb_matches_itself() -> None:
    matcher = default_matcher()
    for entry in matcher.kb.entries:
        for code in entry.all_codes:
            paste = f"Azure Backup failed: {code}" if entry.generic else code
            if code.isdigit() and len(code) < 5:  # a short id alone is any number
                paste = f"(ID: {code})"
            assert [m.code for m in matcher.match(paste)] == [code], code
        for msg in entry.messages:
            paste = f"Azure Backup failed: {msg.text}" if entry.generic else msg.text
            if msg.weak:  # used only beside the code or with strong context: a backup job
                paste = f"Azure Backup job failed: {msg.text}"
            got = [m.entry.code for m in matcher.candidates(paste, limit=3, min_score=0)]
            assert entry.code in got, (entry.code, msg.text, got)


def test_a_matcher_is_built_once_per_knowledge_base() -> None:
    from knowledge.matcher import matcher_for

    kb = default_matcher().kb
    assert matcher_for(kb) is matcher_for(kb)
    assert [m.code for m in match(AGENT, kb=kb)] == [AGENT]
