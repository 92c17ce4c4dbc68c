"""The knowledge base covers every error of the zh-TW seed article, in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.loader import DATA_DIR, KnowledgeBase, load_kb
from knowledge.model import Entry, Section, Text

# The seed's zh-TW "錯誤訊息" line of each error, as printed there (slips and all).
SEED_MESSAGES: dict[str, str] = {
    "UserErrorGuestAgentStatusUnavailable": "VM 代理程式無法與 Azure 備份通訊",
    "GuestAgentSnapshotTaskStatusError": "無法與 VM 代理程式通訊來取得快照集狀態",
    "UserErrorVmProvisioningStateFailed": "VM 處於失敗的布建狀態",
    "UserErrorRpCollectionLimitReached": "已達到還原點集合上限。",
    "UserErrorKeyvaultPermissionsNotConfigured": (
        "備份沒有足夠的金鑰保存庫權限可以進行加密 VM 的備份。"
    ),
    "ExtensionSnapshotFailedNoNetwork": "因為虛擬機器沒有網路連線，所以快照集作業失敗",
    "ExtensionOperationFailedForManagedDisks": "VMSnapshot 延伸模組作業失敗",
    "BackUpOperationFailed": "備份因為內部錯誤而失敗 - 請在幾分鐘內重試此作業",
    "BackUpOperationFailedV2": "備份因為內部錯誤而失敗 - 請在幾分鐘內重試此作業",
    "UserErrorUnsupportedDiskSize": "Azure 備份目前不支援已設定的磁片大小。",
    "UserErrorBackupOperationInProgress": "無法起始備份，因為另一個備份作業目前正在進行中",
    "UserErrorCrpReportedUserError": (
        "備份因錯誤而失敗。 如需詳細資訊，請參閱作業錯誤訊息詳細資料。"
    ),
    "UserErrorBcmDatasourceNotPresent": "備份失敗：此虛擬機器不是（主動）受到 Azure 備份保護。",
}

# The shared sections each error must cite (as a cause or a step), following the seed's links.
MUST_CITE: dict[str, set[str]] = {
    "UserErrorGuestAgentStatusUnavailable": {"agent-unresponsive-windows", "agent-outdated-linux"},
    "GuestAgentSnapshotTaskStatusError": {
        "agent-unresponsive-windows",
        "agent-outdated-linux",
        "snapshot-status-unavailable",
        "agent-config-linux",
        "app-control-blocking-extension",
    },
    "UserErrorVmProvisioningStateFailed": set(),
    "UserErrorRpCollectionLimitReached": {"remove-rp-rg-lock", "clean-rp-collection"},
    "UserErrorKeyvaultPermissionsNotConfigured": set(),
    "ExtensionSnapshotFailedNoNetwork": {"snapshot-status-unavailable"},
    "ExtensionOperationFailedForManagedDisks": {
        "snapshot-status-unavailable",
        "agent-unresponsive-windows",
        "agent-outdated-linux",
    },
    "BackUpOperationFailed": {
        "agent-unresponsive-windows",
        "agent-outdated-linux",
        "snapshot-status-unavailable",
        "remove-rp-rg-lock",
        "vcredist-module-mismatch",
    },
    "BackUpOperationFailedV2": {"remove-rp-rg-lock"},
    "UserErrorUnsupportedDiskSize": set(),
    "UserErrorBackupOperationInProgress": set(),
    "UserErrorCrpReportedUserError": set(),
    "UserErrorBcmDatasourceNotPresent": set(),
}

# The seed's ordered causes, where it numbers them ("原因 1", "原因 2", ...).
SEED_CAUSE_ORDER: dict[str, list[str]] = {
    "GuestAgentSnapshotTaskStatusError": [
        "agent-unresponsive-windows",
        "agent-outdated-linux",
        "snapshot-status-unavailable",
        "agent-config-linux",
    ],
    "ExtensionOperationFailedForManagedDisks": [
        "snapshot-status-unavailable",
        "agent-unresponsive-windows",
        "agent-outdated-linux",
    ],
    # Its cause 4 (the lock) is written out; the step that fixes it cites remove-rp-rg-lock.
    "BackUpOperationFailed": [
        "agent-unresponsive-windows",
        "agent-outdated-linux",
        "snapshot-status-unavailable",
    ],
}

# The seed's <a name> anchors of each error's heading (the ones the live article still has).
SEED_ANCHORS: dict[str, str] = {
    "UserErrorGuestAgentStatusUnavailable": (
        "UserErrorGuestAgentStatusUnavailable-vm-agent-unable-to-communicate-with-azure-backup"
    ),
    "ExtensionSnapshotFailedNoNetwork": (
        "ExtensionSnapshotFailedNoNetwork-snapshot-operation-failed-due-to-no-network-connectivity"
        "-on-the-virtual-machine"
    ),
    "ExtensionOperationFailedForManagedDisks": (
        "ExtensionOperationFailed-vmsnapshot-extension-operation-failed"
    ),
    "UserErrorVmProvisioningStateFailed": (
        "usererrorvmprovisioningstatefailed---the-vm-is-in-failed-provisioning-state"
    ),
    "BackUpOperationFailed": (
        "backupoperationfailed--backupoperationfailedv2---backup-fails-with-an-internal-error"
    ),
}

SHARED_SECTIONS = {
    "agent-unresponsive-windows",
    "agent-outdated-linux",
    "agent-config-linux",
    "snapshot-status-unavailable",
    "remove-rp-rg-lock",
    "clean-rp-collection",
    "clean-rp-collection-on-demand-backup",
    "clean-rp-collection-portal",
    "app-control-blocking-extension",
}

# Slips of the machine-assisted seed that our own zh-TW text must not repeat.
SLIPS = ("布建", "磁片", "適用于", "重新開機", "**", "]]", "[**")
_CJK = re.compile(r"[\u4e00-\u9fff]")

ENTRY_FILES = sorted({f"{c}.yaml" for c in SEED_MESSAGES if c != "BackUpOperationFailedV2"})


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


def _entry(kb: KnowledgeBase, code: str) -> Entry:
    entry = kb.get(code)
    assert entry is not None, f"no entry answers {code}"
    return entry


def _texts(item: Entry | Section) -> Iterator[Text]:
    yield item.title
    yield item.summary if item.summary is not None else item.title
    for cause in getattr(item, "causes", []):
        if cause.text is not None:
            yield cause.text
    for step in item.steps:
        yield step.text
    yield from item.notes


def _cited(entry: Entry, code: str) -> set[str]:
    refs = {
        c.section for c in entry.causes if c.section and (not c.applies_to or code in c.applies_to)
    }
    return refs | {s.see for s in entry.steps if s.see}


@pytest.mark.parametrize("code", sorted(SEED_MESSAGES))
def test_entry_exists_and_answers_its_code(kb: KnowledgeBase, code: str) -> None:
    entry = _entry(kb, code)
    assert code in entry.all_codes


@pytest.mark.parametrize("code", sorted(SEED_MESSAGES))
def test_entry_has_the_seed_zh_tw_message(kb: KnowledgeBase, code: str) -> None:
    entry = _entry(kb, code)
    zh = [m.text for m in entry.messages if m.lang == "zh-TW"]
    assert SEED_MESSAGES[code] in zh


@pytest.mark.parametrize("code", sorted(SEED_MESSAGES))
def test_entry_has_current_english_message(kb: KnowledgeBase, code: str) -> None:
    entry = _entry(kb, code)
    assert any(m.lang == "en" and m.code in (None, entry.code) for m in entry.messages)


@pytest.mark.parametrize("code", sorted(SEED_MESSAGES))
def test_entry_cites_the_seed_sections(kb: KnowledgeBase, code: str) -> None:
    entry = _entry(kb, code)
    missing = MUST_CITE[code] - _cited(entry, code)
    assert not missing, f"{code} does not cite {sorted(missing)}"


@pytest.mark.parametrize("code", sorted(SEED_CAUSE_ORDER))
def test_causes_keep_the_seed_order(kb: KnowledgeBase, code: str) -> None:
    sections = [c.section for c in _entry(kb, code).causes if c.section]
    assert sections[: len(SEED_CAUSE_ORDER[code])] == SEED_CAUSE_ORDER[code]


@pytest.mark.parametrize("code", sorted(SEED_MESSAGES))
def test_entry_and_its_sections_speak_both_languages(kb: KnowledgeBase, code: str) -> None:
    entry = _entry(kb, code)
    items: list[Entry | Section] = [entry, *(kb.sections[s] for s in _cited(entry, code))]
    for item in items:
        for text in _texts(item):
            assert _CJK.search(text.zh_TW), f"{code}: zh-TW text has no Chinese: {text.zh_TW!r}"
            assert not _CJK.search(text.en), f"{code}: English text has Chinese: {text.en!r}"
            assert not any(slip in text.zh_TW for slip in SLIPS), (
                f"{code}: seed slip in {text.zh_TW!r}"
            )


@pytest.mark.parametrize("code", sorted(SEED_ANCHORS))
def test_entry_links_the_seed_anchor(kb: KnowledgeBase, code: str) -> None:
    entry = _entry(kb, code)
    assert any(
        d.article == "snapshot-timeout" and d.anchor == SEED_ANCHORS[code] for d in entry.docs
    )


def test_policy_migration_meaning_of_v2(kb: KnowledgeBase) -> None:
    entry = _entry(kb, "BackUpOperationFailedV2")
    msg = (
        "The backups of VMs have failed after the policy migration"
        " from Standard to Enhanced policy."
    )
    assert any(m.text == msg and m.code == "BackUpOperationFailedV2" for m in entry.messages)
    assert any(
        c.text is not None and c.applies_to == ["BackUpOperationFailedV2"] for c in entry.causes
    )
    assert any(d.article == "vms-troubleshoot" for d in entry.docs)


@pytest.mark.parametrize(
    ("alias", "code"),
    [
        ("ExtentionOperationFailedForManagedDisks", "ExtensionOperationFailedForManagedDisks"),
        ("ExtentionOperationFailed", "ExtensionOperationFailedForManagedDisks"),
        ("UserErrorKeyVaultPermissionsNotConfigured", "UserErrorKeyvaultPermissionsNotConfigured"),
    ],
)
def test_old_and_misspelt_codes_are_aliases(kb: KnowledgeBase, alias: str, code: str) -> None:
    entry = _entry(kb, alias)
    assert entry.code == code
    assert alias in [a.code for a in entry.aliases]


@pytest.mark.parametrize(
    ("code", "diagnostics", "remediations"),
    [
        ("UserErrorRpCollectionLimitReached", {"restore_points", "locks"},
         {"remove_rg_lock", "delete_restore_point_collection", "trigger_backup"}),
        ("UserErrorBackupOperationInProgress", {"job_details"}, {"cancel_job"}),
        ("UserErrorBcmDatasourceNotPresent", {"protection_status"}, {"resume_protection"}),
        ("UserErrorVmProvisioningStateFailed", {"vm_agent_status"},
         {"remove_snapshot_extension", "trigger_backup"}),
    ],
)  # fmt: skip
def test_entry_offers_the_fitting_actions(
    kb: KnowledgeBase, code: str, diagnostics: set[str], remediations: set[str]
) -> None:
    entry = _entry(kb, code)
    assert diagnostics <= set(entry.diagnostics)
    assert remediations <= set(entry.remediations)


def test_shared_sections_exist_with_ordered_steps(kb: KnowledgeBase) -> None:
    assert set(kb.sections) >= SHARED_SECTIONS
    clean = kb.sections["clean-rp-collection"]
    assert [s.see for s in clean.steps] == [
        "clean-rp-collection-on-demand-backup",
        "clean-rp-collection-portal",
    ]
    assert len(kb.sections["snapshot-status-unavailable"].steps) == 2
    linux = [s.text.en for s in kb.sections["agent-outdated-linux"].steps]
    assert any("Logs.Verbose" in text for text in linux)


@pytest.mark.parametrize("section_id", sorted(SHARED_SECTIONS))
def test_section_speaks_both_languages(kb: KnowledgeBase, section_id: str) -> None:
    for text in _texts(kb.sections[section_id]):
        assert _CJK.search(text.zh_TW)
        assert not _CJK.search(text.en)
        assert not any(slip in text.zh_TW for slip in SLIPS)


@pytest.mark.parametrize(
    "path",
    [
        *(Path("entries") / "vm" / f for f in ENTRY_FILES),
        *(Path("sections") / f"{s}.yaml" for s in sorted(SHARED_SECTIONS)),
    ],
    ids=str,
)
def test_file_credits_the_docs(path: Path) -> None:
    first = (DATA_DIR / path).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# Based on Microsoft Docs (backup-azure-")
