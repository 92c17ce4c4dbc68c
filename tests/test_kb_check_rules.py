"""`kb check`'s editorial rules: evidence that can tell errors apart, and a short first reply."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from knowledge.check import (
    COMMON_WORD_SHARE,
    MAX_STEPS,
    MIN_SYMPTOMS,
    STEP_MAX,
    SUMMARY_MAX,
    check_kb,
    common_words,
    defects,
    weakness,
)
from knowledge.errors import KnowledgeBaseError
from knowledge.loader import DATA_DIR, KnowledgeBase, load_kb
from knowledge.matcher import Matcher
from knowledge.model import Entry, Message, Step, Symptom, Text

CODE = "UserErrorRpCollectionLimitReached"  # a seed entry that passes every rule
OTHER = "UserErrorBackupOperationInProgress"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


def _with(kb: KnowledgeBase, *changed: Entry) -> KnowledgeBase:
    """The knowledge base with some entries replaced (same codes)."""
    new = {e.code: e for e in changed}
    entries = tuple(new.get(e.code, e) for e in kb.entries)
    by_code = {k: new.get(v.code, v) for k, v in kb.by_code.items()}
    return KnowledgeBase(entries, kb.sections, kb.articles, by_code)


def _edit(kb: KnowledgeBase, code: str, **update: Any) -> Entry:
    entry = kb.get(code)
    assert entry is not None
    return entry.model_copy(update=update)


def _problems(kb: KnowledgeBase, code: str = CODE) -> dict[str, str]:
    """Field -> problem for one entry's defects."""
    return {d.field or "": d.problem for d in defects(kb, DATA_DIR) if d.entry == code}


def _message(text: str, *, lang: str = "en", weak: bool = False) -> Message:
    return Message.model_validate({"text": text, "lang": lang, "weak": weak})


def _symptom(text: str, lang: str = "en") -> Symptom:
    return Symptom.model_validate({"text": text, "lang": lang})


def test_the_shipped_knowledge_base_passes(kb: KnowledgeBase) -> None:
    assert check_kb().startswith("knowledge base OK: ")
    assert not list(defects(kb, DATA_DIR))


# ----- weak messages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Access Is Denied", "en"),  # two meaningful words
        ("UserErrorRpCollectionLimitReached", "en"),  # a bare code: the article gives no message
        ("UserErrorRpCollectionLimitReached: An exception occurred.", "en"),
        ("拒絕存取", "zh-TW"),
        ("資源群組不存在", "zh-TW"),
        ("Azure VM backup failed.", "en"),  # only words common across the knowledge base
    ],
)
def test_a_message_that_cannot_name_its_error_must_be_marked_weak(
    kb: KnowledgeBase, text: str, lang: str
) -> None:
    entry = kb.get(CODE)
    assert entry is not None
    weak = _edit(kb, CODE, messages=[*entry.messages, _message(text, lang=lang)])
    field = f"messages.{len(entry.messages)}.weak"
    assert field in _problems(_with(kb, weak))
    marked = _edit(kb, CODE, messages=[*entry.messages, _message(text, lang=lang, weak=True)])
    assert field not in _problems(_with(kb, marked))


def test_a_specific_message_need_not_be_weak(kb: KnowledgeBase) -> None:
    entry = kb.get(CODE)
    assert entry is not None
    text = "Restore point collection limit reached while the lock blocks cleanup"
    ok = _edit(kb, CODE, messages=[*entry.messages, _message(text)])
    assert not _problems(_with(kb, ok))


def test_windows_text_of_a_win32_hresult_must_be_weak(kb: KnowledgeBase) -> None:
    """ "The system cannot find the file specified." is what every Windows program prints."""
    entry = kb.get("0x80070002")
    assert entry is not None
    unmarked = [m.model_copy(update={"weak": False}) for m in entry.messages]
    problems = _problems(_with(kb, entry.model_copy(update={"messages": unmarked})), "0x80070002")
    assert "messages.0.weak" in problems
    assert "Win32" in problems["messages.0.weak"]


def test_weakness_sets_the_entrys_codes_aside(kb: KnowledgeBase) -> None:
    common = common_words(kb)
    assert weakness("0x80070005: Access Is Denied", ["0x80070005"], common) is not None
    assert weakness("UserErrorFoo", ["UserErrorFoo"], common) is not None
    assert weakness("The Restore Point collection max limit has reached.", [], common) is None


def test_common_words_follow_document_frequency(kb: KnowledgeBase) -> None:
    common = common_words(kb)
    texts = [t for e in kb.entries for t in [*(m.text for m in e.messages)]]
    texts += [s.text for e in kb.entries for s in e.symptoms]
    assert {"backup", "vm", "restore"} <= common
    assert "rpcollectionlimit" not in common
    assert "vcredist" not in common
    bar = COMMON_WORD_SHARE * len(texts)
    rare = sum("vmsnapshot" in t.lower() for t in texts)
    assert ("vmsnapshot" in common) == (rare >= bar)


def test_a_weak_message_needs_its_code_or_strong_context(kb: KnowledgeBase) -> None:
    entry = kb.get(CODE)
    assert entry is not None
    text = "Quokka tally overflowed the zebra ledger"

    def by_message(matcher: Matcher, paste: str) -> list[str]:
        found = matcher.candidates(paste, limit=5, min_score=0)
        return [m.code for m in found if m.via == "message"]

    weak = Matcher(
        _with(kb, _edit(kb, CODE, messages=[*entry.messages, _message(text, weak=True)]))
    )
    assert CODE not in by_message(weak, text)
    assert CODE not in by_message(weak, f"Azure Backup: {text}")  # backup words alone: not enough
    beside = weak.candidates(f"{CODE}: {text}", limit=5, min_score=0)
    assert beside
    assert beside[0].code == CODE
    assert CODE in by_message(weak, f"Azure Backup job failed: {text}")
    strong = Matcher(_with(kb, _edit(kb, CODE, messages=[*entry.messages, _message(text)])))
    assert CODE in by_message(strong, text)


# ----- symptoms ----------------------------------------------------------------------------------


def _add_symptom(kb: KnowledgeBase, text: str, code: str = CODE, lang: str = "en") -> Entry:
    entry = kb.get(code)
    assert entry is not None
    return _edit(kb, code, symptoms=[*entry.symptoms, _symptom(text, lang)])


def test_a_symptom_of_common_words_only_is_an_error(kb: KnowledgeBase) -> None:
    problems = _problems(_with(kb, _add_symptom(kb, "Azure VM backup failed with an error")))
    assert "common" in problems["symptoms.3"]


@pytest.mark.parametrize(("text", "lang"), [("VM snapshot", "en"), ("要求被拒", "zh-TW")])
def test_a_symptom_with_few_meaningful_words_is_an_error(
    kb: KnowledgeBase, text: str, lang: str
) -> None:
    problems = _problems(_with(kb, _add_symptom(kb, text, lang=lang)))
    assert "meaningful words" in problems["symptoms.3"]


def test_a_symptom_shared_with_another_entry_needs_both_to_relate(kb: KnowledgeBase) -> None:
    other = kb.get(OTHER)
    assert other is not None
    shared = other.symptoms[0].text.upper()  # case and spacing do not tell them apart
    mine = _add_symptom(kb, f"  {shared} ")
    assert OTHER in _problems(_with(kb, mine)).get("symptoms.3", "")
    one_way = mine.model_copy(update={"related": [*mine.related, OTHER]})
    assert OTHER in _problems(_with(kb, one_way)).get("symptoms.3", "")
    both = other.model_copy(update={"related": [*other.related, CODE]})
    assert "symptoms.3" not in _problems(_with(kb, one_way, both))


def test_a_symptom_equal_to_another_entrys_message_is_an_error(kb: KnowledgeBase) -> None:
    other = kb.get(OTHER)
    assert other is not None
    problems = _problems(_with(kb, _add_symptom(kb, other.messages[0].text)))
    assert OTHER in problems["symptoms.3"]


def test_an_entry_needs_two_english_symptoms(kb: KnowledgeBase) -> None:
    entry = kb.get(CODE)
    assert entry is not None
    zh_only = [s for s in entry.symptoms if s.lang == "zh-TW"]
    one = [s for s in entry.symptoms if s.lang == "en"][: MIN_SYMPTOMS - 1]
    problems = _problems(_with(kb, _edit(kb, CODE, symptoms=[*one, *zh_only])))
    assert str(MIN_SYMPTOMS) in problems["symptoms"]


# ----- the first reply: summary and steps --------------------------------------------------------


@pytest.mark.parametrize(
    ("en", "zh", "field"),
    [
        ("The VM is full. Remove old points.", "還原點已滿。", "summary.en"),
        ("Too many points, e.g. after many backups.", "已滿。請刪除舊的。", "summary.zh-TW"),
        ("x" * (SUMMARY_MAX["en"] + 1), "還原點已滿。", "summary.en"),
        ("The VM is full.", "滿" * (SUMMARY_MAX["zh-TW"] + 1), "summary.zh-TW"),
    ],
)  # fmt: skip
def test_a_summary_is_one_short_sentence(kb: KnowledgeBase, en: str, zh: str, field: str) -> None:
    summary = Text.model_validate({"en": en, "zh-TW": zh})
    problems = _problems(_with(kb, _edit(kb, CODE, summary=summary)))
    assert list(problems) == [field]


def test_e_g_does_not_end_a_sentence(kb: KnowledgeBase) -> None:
    summary = Text.model_validate(
        {"en": "Too many points, e.g. After many backups.", "zh-TW": "滿。"}
    )
    assert not _problems(_with(kb, _edit(kb, CODE, summary=summary)))


def _step(en: str, zh: str = "重試備份。") -> Step:
    return Step.model_validate({"text": {"en": en, "zh-TW": zh}})


def test_at_most_five_steps(kb: KnowledgeBase) -> None:
    steps = [_step(f"Step number {i}.") for i in range(MAX_STEPS + 1)]
    assert "steps" in _problems(_with(kb, _edit(kb, CODE, steps=steps)))
    assert "steps" not in _problems(_with(kb, _edit(kb, CODE, steps=steps[:MAX_STEPS])))


@pytest.mark.parametrize(
    ("en", "zh", "field"),
    [
        ("Retry.\nThen wait.", "重試。", "steps.0.text.en"),
        ("Retry.", "重試。\n然後等待。", "steps.0.text.zh-TW"),
        ("y" * (STEP_MAX + 1), "重試。", "steps.0.text.en"),
    ],
)
def test_a_step_is_one_short_line(kb: KnowledgeBase, en: str, zh: str, field: str) -> None:
    problems = _problems(_with(kb, _edit(kb, CODE, steps=[_step(en, zh)])))
    assert field in problems


def test_kb_check_names_file_entry_and_field(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(DATA_DIR, root)
    path = root / "entries" / "mars" / "0x80070005.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("weak: true") >= 1
    path.write_text(text.replace("weak: true", "weak: false"), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        check_kb(root)
    assert caught.value.path == path
    assert caught.value.entry == "0x80070005"
    assert caught.value.field is not None
    assert caught.value.field.endswith(".weak")
