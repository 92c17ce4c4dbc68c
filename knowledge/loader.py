"""Load and validate the knowledge base: every defect names its file, entry and field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from knowledge.errors import KnowledgeBaseError
from knowledge.model import Article, Entry, Section

M = TypeVar("M", Entry, Section, Article)

DATA_DIR = Path(__file__).with_name("data")


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated knowledge base, with look-ups by code (case-insensitive) and by id."""

    entries: tuple[Entry, ...]
    sections: Mapping[str, Section]
    articles: Mapping[str, Article]
    by_code: Mapping[str, Entry] = field(repr=False)

    def get(self, code: str) -> Entry | None:
        """The entry answering ``code`` (its own code, another of its codes, or an alias)."""
        return self.by_code.get(code.casefold())

    def codes(self) -> list[str]:
        """Every entry's main code, sorted."""
        return sorted(e.code for e in self.entries)


def load_kb(root: Path | str | None = None) -> KnowledgeBase:
    """Read, validate and cross-check the knowledge base under ``root`` (default: shipped)."""
    base = Path(root) if root is not None else DATA_DIR
    articles = _load_articles(base / "articles.yaml")
    sections: dict[str, Section] = {}
    for path in _yaml_files(base / "sections"):
        section = _validate(Section, _read(path), path)
        if section.id != path.stem:
            raise KnowledgeBaseError(
                path, section.id, "id", f"must match the file name {path.stem!r}"
            )
        sections[section.id] = section
    files = _entry_files(base / "entries")
    entries = [_validate(Entry, _read(path), path) for path in files]
    if not entries:
        raise KnowledgeBaseError(base / "entries", None, None, "no entries found")
    by_code = _check(base, zip(files, entries, strict=True), sections, articles)
    return KnowledgeBase(tuple(entries), sections, articles, by_code)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def _entry_files(folder: Path) -> list[Path]:
    """``entries/<workload>/<Code>.yaml``, sorted; a file right under ``entries/`` is a defect."""
    if not folder.is_dir():
        return []
    loose = _yaml_files(folder)
    if loose:
        raise KnowledgeBaseError(
            loose[0], None, "workload", "entries live in a folder named after their workload"
        )
    return sorted(folder.glob("*/*.yaml"))


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(path, None, None, f"cannot be read: {exc}") from exc
    import yaml  # here: a command served from the compiled cache (kbcache.py) reads no YAML

    # libyaml's parser is several times faster; the pure-Python one is the fallback.
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(path, None, None, f"is not valid YAML: {exc}") from exc


def _validate(model: type[M], data: Any, path: Path) -> M:
    if not isinstance(data, dict):
        raise KnowledgeBaseError(path, None, None, "must hold a mapping at the top level")
    name = data.get("code") or data.get("id")
    name = str(name) if name is not None else None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or None
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise KnowledgeBaseError(path, name, where, f"{err['msg']}{more}") from exc


def _load_articles(path: Path) -> dict[str, Article]:
    data = _read(path)
    items = data.get("articles") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise KnowledgeBaseError(path, None, "articles", "must be a non-empty list")
    articles: dict[str, Article] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise KnowledgeBaseError(path, None, f"articles.{i}", "must be a mapping")
        article = _validate(Article, item, path)
        articles[article.id] = article
    return articles


def _check(
    base: Path,
    located: Iterable[tuple[Path, Entry]],
    sections: Mapping[str, Section],
    articles: Mapping[str, Article],
) -> dict[str, Entry]:
    """Cross-references: file and folder names, unique codes, sections, related codes, articles."""
    by_code: dict[str, Entry] = {}
    located = list(located)
    for path, entry in located:
        if path.stem != entry.code:
            raise KnowledgeBaseError(path, entry.code, "code", "must match the file name")
        if path.parent.name != entry.workload:
            raise KnowledgeBaseError(
                path, entry.code, "workload", f"must match the folder {path.parent.name!r}"
            )
        for where, code in _codes(entry):
            other = by_code.setdefault(code.casefold(), entry)
            if other is not entry:
                raise KnowledgeBaseError(
                    path, entry.code, where, f"code {code!r} is already used by {other.code}"
                )
    for path, entry in located:
        _check_texts(path, entry)
        for where, ref in _section_refs(entry):
            if ref not in sections:
                raise KnowledgeBaseError(path, entry.code, where, f"unknown section {ref!r}")
        for i, code in enumerate(entry.related):
            if code.casefold() not in by_code:
                raise KnowledgeBaseError(path, entry.code, f"related.{i}", f"unknown code {code!r}")
        for i, msg in enumerate(entry.messages):
            if msg.code is not None and msg.code not in entry.all_codes:
                raise KnowledgeBaseError(
                    path,
                    entry.code,
                    f"messages.{i}.code",
                    f"{msg.code!r} is not a code of this entry",
                )
        _check_docs(path, entry.code, entry.docs, articles)
    for section in sections.values():
        path = base / "sections" / f"{section.id}.yaml"
        for i, step in enumerate(section.steps):
            if step.see is not None and step.see not in sections:
                raise KnowledgeBaseError(
                    path, section.id, f"steps.{i}.see", f"unknown section {step.see!r}"
                )
        _check_docs(path, section.id, section.docs, articles)
    return by_code


def _codes(entry: Entry) -> list[tuple[str, str]]:
    found = [("code", entry.code)]
    found += [(f"also_codes.{i}", c) for i, c in enumerate(entry.also_codes)]
    found += [(f"aliases.{i}.code", a.code) for i, a in enumerate(entry.aliases)]
    found += [(f"numeric_codes.{i}", str(n)) for i, n in enumerate(entry.numeric_codes)]
    return [(w, c) for w, c in found if not (w.startswith("numeric") and c == entry.code)]


MIN_PHRASE_WORDS = 3  # a shorter symptom ("backup failed") is chatter, not evidence


def _check_texts(path: Path, entry: Entry) -> None:
    """Messages and symptoms: no duplicates, symptoms long enough to tell something apart."""
    seen: dict[str, str] = {}
    phrases = [(f"messages.{i}", m.text, m.lang) for i, m in enumerate(entry.messages)]
    phrases += [(f"symptoms.{i}", s.text, s.lang) for i, s in enumerate(entry.symptoms)]
    for where, text, lang in phrases:
        key = " ".join(text.casefold().split())
        if key in seen:
            raise KnowledgeBaseError(path, entry.code, where, f"repeats {seen[key]}")
        seen[key] = where
        if where.startswith("symptoms") and lang == "en" and len(key.split()) < MIN_PHRASE_WORDS:
            raise KnowledgeBaseError(
                path, entry.code, where, f"a symptom needs {MIN_PHRASE_WORDS} words or more"
            )
        if where.startswith("symptoms") and lang == "zh-TW" and len(key) < 4:
            raise KnowledgeBaseError(path, entry.code, where, "a symptom needs 4 characters")


def _section_refs(entry: Entry) -> list[tuple[str, str]]:
    refs = [(f"causes.{i}.section", c.section) for i, c in enumerate(entry.causes) if c.section]
    refs += [(f"steps.{i}.see", s.see) for i, s in enumerate(entry.steps) if s.see]
    return refs


def _check_docs(
    path: Path, name: str, docs: Iterable[Any], articles: Mapping[str, Article]
) -> None:
    for i, link in enumerate(docs):
        if link.article not in articles:
            raise KnowledgeBaseError(
                path, name, f"docs.{i}.article", f"unknown article {link.article!r}"
            )
