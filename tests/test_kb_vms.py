"""Every code of the reference error tables has an entry that knows its current and older wordings.

The tables are copies of the reference material in ``tests/data/reference/azure-docs``:
``error-codes.tsv`` (48 codes of both articles, current messages) and ``error-codes-history.tsv``
(older wordings, 2018-2022). The entries of "Troubleshoot backup errors with Azure VMs" are held to
a few more rules: credit line, a zh-TW message, a doc anchor that exists in the article.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel

from knowledge.loader import DATA_DIR, KnowledgeBase, load_kb
from knowledge.model import Entry, Text

REFERENCE = Path(__file__).resolve().parent / "data" / "reference" / "azure-docs"
VMS_ARTICLE = "articles/backup/backup-azure-vms-troubleshoot.md"
VMS_MARKDOWN = "backup-azure-vms-troubleshoot__2025-11.en.md"
CREDIT = "# Based on Microsoft Docs (backup-azure-vms-troubleshoot), CC BY 4.0."
# BackUpOperationFailedV2 is documented in both articles; its entry (BackUpOperationFailed) is
# credited to both and checked by the snapshot-timeout tests.
SHARED_WITH_SNAPSHOT_TIMEOUT = {"BackUpOperationFailedV2"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Row:
    """One row of a reference table."""

    code: str
    message: str
    article: str
    note: str


def _rows(name: str) -> list[Row]:
    path = REFERENCE / name
    if not path.is_file():
        pytest.fail(f"reference table {path} is missing from the repository")
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Row(r["code"], r["english_message"], r["article_path"], r["notes"])
            for r in csv.DictReader(f, delimiter="\t")
        ]


def _norm(text: str) -> str:
    return " ".join(text.split())


CURRENT = _rows("error-codes.tsv")
HISTORY = _rows("error-codes-history.tsv")
CODES = sorted({r.code for r in CURRENT})
VMS_CODES = sorted(
    {r.code for r in CURRENT if r.article == VMS_ARTICLE} - SHARED_WITH_SNAPSHOT_TIMEOUT
)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


def _entry(kb: KnowledgeBase, code: str) -> Entry:
    entry = kb.get(code)
    assert entry is not None, f"no entry answers {code}"
    return entry


def _texts(model: BaseModel, where: str) -> Iterator[tuple[str, Text]]:
    """Every Text inside ``model``, with a path saying where it sits."""
    if isinstance(model, Text):
        yield where, model
        return
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                yield from _texts(item, f"{where}.{name}" + (f".{i}" if items is value else ""))


def test_tables_hold_what_the_brief_says() -> None:
    assert len(CODES) == 48
    assert len(VMS_CODES) == 35


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_an_entry(kb: KnowledgeBase, code: str) -> None:
    entry = _entry(kb, code)
    assert code in entry.all_codes, f"{code} is only an alias of {entry.code}"


@pytest.mark.parametrize("row", [r for r in CURRENT if r.message], ids=lambda r: r.code)
def test_current_message_is_known(kb: KnowledgeBase, row: Row) -> None:
    messages = {_norm(m.text) for m in _entry(kb, row.code).messages}
    assert _norm(row.message) in messages


@pytest.mark.parametrize("code", CODES)
def test_every_text_has_both_languages(kb: KnowledgeBase, code: str) -> None:
    texts = list(_texts(_entry(kb, code), code))
    assert texts, f"{code} has no text at all"
    for where, text in texts:
        assert CJK.search(text.zh_TW), f"{where}: the zh-TW text holds no Chinese"
        assert not CJK.search(text.en), f"{where}: the English text holds Chinese"


def _history_to_check(kb: KnowledgeBase) -> list[Row]:
    return [r for r in HISTORY if r.code and kb.get(r.code) is not None]


def test_history_rows_of_current_codes_are_all_checked(kb: KnowledgeBase) -> None:
    checked = {r.code for r in _history_to_check(kb)}
    coded = {r.code for r in HISTORY if r.code in CODES}
    assert coded <= checked
    assert len(coded) >= 25


def test_older_wordings_are_known(kb: KnowledgeBase) -> None:
    missing = []
    for row in _history_to_check(kb):
        entry = _entry(kb, row.code)
        known = {_norm(m.text) for m in entry.messages}
        known |= {_norm(a.code) for a in entry.aliases}
        if _norm(row.message) not in known:
            missing.append(f"{entry.code}: {row.message!r}")
    assert not missing, "\n".join(missing)


# ----- the "Troubleshoot backup errors with Azure VMs" entries -----


def _anchors() -> set[str]:
    """The Microsoft Learn anchors of the article's headings (GitHub style, duplicates numbered)."""
    path = REFERENCE / VMS_MARKDOWN
    seen: dict[str, int] = {}
    anchors = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"#{1,6} (.+)", line)
        if not heading:
            continue
        kept = (c for c in heading.group(1).strip() if c.isalnum() or c in " -_")
        anchor = "".join("-" if c == " " else c.lower() for c in kept)
        n = seen.get(anchor, 0)
        seen[anchor] = n + 1
        anchors.add(f"{anchor}-{n}" if n else anchor)
    return anchors


@pytest.mark.parametrize("code", VMS_CODES)
def test_vms_entry_has_its_own_file_with_credit(kb: KnowledgeBase, code: str) -> None:
    assert _entry(kb, code).code == code
    path = DATA_DIR / "entries" / "vm" / f"{code}.yaml"
    assert path.read_text(encoding="utf-8").splitlines()[0] == CREDIT


@pytest.mark.parametrize("code", VMS_CODES)
def test_vms_entry_links_an_existing_anchor(kb: KnowledgeBase, code: str) -> None:
    anchors = _anchors()
    links = [d for d in _entry(kb, code).docs if d.article == "vms-troubleshoot"]
    assert links, f"{code} does not link the article"
    for link in links:
        assert link.anchor in anchors, f"{code}: no heading has the anchor {link.anchor!r}"
        assert code.lower() in link.anchor.replace("-", "")


@pytest.mark.parametrize("code", VMS_CODES)
def test_vms_entry_has_a_translated_message(kb: KnowledgeBase, code: str) -> None:
    entry = _entry(kb, code)
    zh = [m for m in entry.messages if m.lang == "zh-TW"]
    assert zh, f"{code} has no zh-TW message"
    assert all(CJK.search(m.text) for m in zh)
    assert any(m.lang == "en" for m in entry.messages)


@pytest.mark.parametrize("code", VMS_CODES)
def test_vms_step_actions_are_offered(kb: KnowledgeBase, code: str) -> None:
    entry = _entry(kb, code)
    offered = {*entry.diagnostics, *entry.remediations}
    for i, step in enumerate(entry.steps):
        assert step.action is None or step.action in offered, f"{code} steps.{i}"
    assert entry.steps, f"{code} has no steps"


@pytest.mark.parametrize(
    ("code", "numeric"),
    [("ResourceNotFound", 320001), ("BCMV2VMNotFound", 400094), ("AzureVmOffline", 380008)],
)
def test_numeric_codes(kb: KnowledgeBase, code: str, numeric: int) -> None:
    assert _entry(kb, code).numeric_codes == [numeric]


def test_only_resource_not_found_is_generic(kb: KnowledgeBase) -> None:
    assert [c for c in VMS_CODES if _entry(kb, c).generic] == ["ResourceNotFound"]


@pytest.mark.parametrize(
    "group",
    [
        ("ResourceNotFound", "BCMV2VMNotFound"),
        ("UserErrorVmNotInDesirableState", "VmNotInDesirableState"),
        (
            "ExtensionSnapshotFailedCOM",
            "ExtensionInstallationFailedCOM",
            "ExtensionInstallationFailedMDTC",
        ),
        ("ExtensionFailedVssWriterInBadState", "ExtensionFailedVssServiceInBadState"),
    ],
    ids=lambda g: g[0],
)
def test_same_problem_entries_point_at_each_other(
    kb: KnowledgeBase, group: tuple[str, ...]
) -> None:
    for code in group:
        related = set(_entry(kb, code).related)
        assert set(group) - {code} <= related, code


def test_restore_errors_offer_no_remediation(kb: KnowledgeBase) -> None:
    restore = [c for c in VMS_CODES if c.startswith("UserErrorCrossSubscriptionRestore")]
    assert len(restore) == 8
    restore += ["UserErrorSkuNotAvailable", "UserErrorMarketPlaceVMNotSupported"]
    restore += ["UserErrorInstantRpNotFound"]
    for code in restore:
        entry = _entry(kb, code)
        assert entry.remediations == [], code
        assert "job_details" in entry.diagnostics, code
