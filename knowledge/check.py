"""`backup-fix kb check`: validate the knowledge base and summarise it."""

from __future__ import annotations

from pathlib import Path

from knowledge.families import load_families
from knowledge.loader import load_kb


def check_kb(root: Path | None = None) -> str:
    """Load and cross-check the knowledge base; raise KnowledgeBaseError on the first defect."""
    kb = load_kb(root)
    own = Path(root) / "families.yaml" if root is not None else None
    families = load_families(own if own is not None and own.is_file() else None)
    codes = sum(len(e.all_codes) for e in kb.entries)
    aliases = sum(len(e.aliases) for e in kb.entries)
    messages = sum(len(e.messages) for e in kb.entries)
    return (
        f"knowledge base OK: {len(kb.entries)} entries ({codes} codes, {aliases} aliases, "
        f"{messages} messages), {len(kb.sections)} shared sections, {len(kb.articles)} articles, "
        f"{len(families.families)} code families"
    )
