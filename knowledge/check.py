"""`backup-fix kb check`: validate the knowledge base, hold its evidence and answers to the
editorial rules, and summarise it.

The loader checks what the bot needs to start (schema, codes, cross-references). The rules here
keep the evidence able to tell errors apart and the first reply short; they run in `kb check`
(and so in CI), not at every start:

* a message that cannot name its error alone (few meaningful words, or only common ones, once
  the entry's codes are set aside) is marked ``weak: true``;
* a symptom is specific: enough meaningful words, not only common ones, not the same as another
  entry's symptom or message unless the two entries list each other in ``related``;
* an entry has at least ``MIN_SYMPTOMS`` English symptoms;
* a summary is one sentence, and an entry has at most ``MAX_STEPS`` one-line steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from knowledge.errors import KnowledgeBaseError
from knowledge.families import load_families
from knowledge.loader import DATA_DIR, KnowledgeBase, load_kb
from knowledge.model import LANGS, Entry, Lang
from knowledge.text import STOPWORDS, clean, stem, terms

MIN_MEANINGFUL_WORDS = 3  # fewer cannot name an error: "Access Is Denied", "SAP HANA error"
ZH_CHARS_PER_WORD = 2.5  # zh-TW has no spaces: a word is about this many characters
COMMON_WORD_SHARE = 0.02  # a word in this share of all messages and symptoms tells none apart
MIN_SYMPTOMS = 2  # English symptoms per entry
SUMMARY_MAX: dict[Lang, int] = {"en": 180, "zh-TW": 90}  # characters, one sentence
MAX_STEPS = 5  # top-level steps: the first reply shows them all
STEP_MAX = 160  # characters of one step, on one line

# 0x8007xxxx: a Win32 error wrapped in an HRESULT ("The system cannot find the file specified.").
_WIN32 = re.compile(r"0x8007[0-9A-Fa-f]{4}")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A sentence ends at . ! ? before the next one's capital; "e.g. " and "i.e. " do not end one.
_EN_STOP = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)[.!?]\s+[A-Z`\"(]")
_ZH_STOP = re.compile(r"[。！？!?](?=\s*\S)|\.\s+\S")


def check_kb(root: Path | None = None) -> str:
    """Load and check the knowledge base; raise KnowledgeBaseError on the first defect."""
    kb = load_kb(root)
    check_rules(kb, Path(root) if root is not None else DATA_DIR)
    own = Path(root) / "families.yaml" if root is not None else None
    families = load_families(own if own is not None and own.is_file() else None)
    codes = sum(len(e.all_codes) for e in kb.entries)
    aliases = sum(len(e.aliases) for e in kb.entries)
    messages = sum(len(e.messages) for e in kb.entries)
    symptoms = sum(len(e.symptoms) for e in kb.entries)
    return (
        f"knowledge base OK: {len(kb.entries)} entries ({codes} codes, {aliases} aliases, "
        f"{messages} messages, {symptoms} symptoms), {len(kb.sections)} shared sections, "
        f"{len(kb.articles)} articles, {len(families.families)} code families"
    )


def check_rules(kb: KnowledgeBase, base: Path) -> None:
    """The editorial rules above; the first defect raises, naming file, entry and field."""
    for defect in defects(kb, base):
        raise defect


def defects(kb: KnowledgeBase, base: Path) -> Iterator[KnowledgeBaseError]:
    """Every entry's defects under the editorial rules, in file order."""
    common = common_words(kb)
    owners = _owners(kb)
    for entry in kb.entries:
        path = base / "entries" / entry.workload / f"{entry.code}.yaml"
        for field, problem in _entry_defects(kb, entry, common, owners):
            yield KnowledgeBaseError(path, entry.code, field, problem)


def words(text: str) -> list[str]:
    """The meaningful words of an evidence text (zh-TW: character pairs), in order."""
    return [t for t, _, _ in terms(clean(text).lower()) if t not in STOPWORDS and len(t) > 1]


def common_words(kb: KnowledgeBase) -> frozenset[str]:
    """Words in at least ``COMMON_WORD_SHARE`` of the knowledge base's messages and symptoms."""
    df: dict[str, int] = {}
    n = 0
    for entry in kb.entries:
        for text in _evidence(entry):
            n += 1
            for word in set(words(text)):
                df[word] = df.get(word, 0) + 1
    bar = COMMON_WORD_SHARE * n
    return frozenset(w for w, count in df.items() if count >= bar)


def weakness(text: str, codes: list[str], common: frozenset[str]) -> str | None:
    """Why ``text`` cannot name an error alone (None when it can); ``codes`` are set aside."""
    own = {stem(c.lower()) for c in codes}
    found = [w for w in words(text) if w not in own]
    latin = [w for w in found if not _HAN.match(w)]
    count = len(latin) + len(_HAN.findall(text)) / ZH_CHARS_PER_WORD
    if count < MIN_MEANINGFUL_WORDS:
        return f"has fewer than {MIN_MEANINGFUL_WORDS} meaningful words besides the entry's codes"
    if all(w in common for w in found):
        return "is made only of words common across the knowledge base"
    return None


def _evidence(entry: Entry) -> list[str]:
    return [m.text for m in entry.messages] + [s.text for s in entry.symptoms]


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _owners(kb: KnowledgeBase) -> dict[str, set[str]]:
    """Each normalised message or symptom, with the codes of the entries that hold it."""
    owners: dict[str, set[str]] = {}
    for entry in kb.entries:
        for text in _evidence(entry):
            owners.setdefault(_key(text), set()).add(entry.code)
    return owners


def _entry_defects(
    kb: KnowledgeBase, entry: Entry, common: frozenset[str], owners: dict[str, set[str]]
) -> Iterator[tuple[str, str]]:
    codes = [*entry.all_codes, *(a.code for a in entry.aliases)]
    codes += [str(n) for n in entry.numeric_codes]
    for i, msg in enumerate(entry.messages):
        why = weakness(msg.text, codes, common)
        if why is None and _WIN32.match(msg.code or entry.code):
            why = "is Windows' own text for a Win32 error, which every program prints"
        if why is not None and not msg.weak:
            yield f"messages.{i}.weak", f"{msg.text!r} {why}: mark it weak: true"
    for i, sym in enumerate(entry.symptoms):
        why = weakness(sym.text, codes, common)
        if why is not None:
            yield f"symptoms.{i}", f"{sym.text!r} {why}: say what tells this error apart"
        for other in sorted(owners[_key(sym.text)] - {entry.code}):
            if not _related(kb, entry, other):
                yield (
                    f"symptoms.{i}",
                    f"{sym.text!r} is also evidence of {other}: relate the two entries "
                    "(each in the other's related) or say what tells them apart",
                )
    if sum(s.lang == "en" for s in entry.symptoms) < MIN_SYMPTOMS:
        yield "symptoms", f"needs at least {MIN_SYMPTOMS} specific English symptoms"
    yield from _answer_defects(entry)


def _related(kb: KnowledgeBase, entry: Entry, code: str) -> bool:
    other = kb.get(code)
    return other is not None and code in entry.related and entry.code in other.related


def _answer_defects(entry: Entry) -> Iterator[tuple[str, str]]:
    """The first reply shows the summary and every top-level step: short, one line each."""
    for lang in LANGS:
        stops = _EN_STOP if lang == "en" else _ZH_STOP
        text = entry.summary.get(lang).strip()
        if len(text) > SUMMARY_MAX[lang]:
            yield f"summary.{lang}", f"has {len(text)} characters; at most {SUMMARY_MAX[lang]}"
        if stops.search(text):
            yield f"summary.{lang}", "must be one sentence"
    if len(entry.steps) > MAX_STEPS:
        yield "steps", f"has {len(entry.steps)} steps; at most {MAX_STEPS} (merge or move some)"
    for i, step in enumerate(entry.steps):
        for lang in LANGS:
            text = step.text.get(lang).strip()
            if "\n" in text:
                yield f"steps.{i}.text.{lang}", "must be one line"
            if len(text) > STEP_MAX:
                yield f"steps.{i}.text.{lang}", f"has {len(text)} characters; at most {STEP_MAX}"
