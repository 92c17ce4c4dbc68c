"""``backup-fix kb import``: a Microsoft Docs troubleshooting article -> draft knowledge-base files.

Each error section (a heading with "Error code" lines, or with codes in the heading itself) becomes
an entry draft; each sub-section of "Causes and solutions" / "原因和解決方案", and every other
heading an error links to, becomes a section draft. The article's language fills its fields, the
other language gets a visible "TODO: translate:" placeholder, so every draft validates on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from knowledge.importer_article import Article
from knowledge.importer_body import TODO
from knowledge.importer_md import (
    article_id_of,
    language,
    section_id,
    split_blocks,
    split_front_matter,
)
from knowledge.importer_workload import infer_workload
from knowledge.model import WORKLOADS

__all__ = ["TODO", "Draft", "parse_article", "write_drafts"]


@dataclass(frozen=True)
class Draft:
    """A draft knowledge-base file: an entry (named by its code) or a section (by its id)."""

    kind: Literal["entry", "section"]
    name: str
    data: dict[str, Any]

    def to_yaml(self) -> str:
        """The draft as the YAML file ``knowledge/data/entries|sections`` holds."""
        head = "# Draft imported from Microsoft Docs (CC BY 4.0): review, translate the TODOs.\n"
        return head + yaml.safe_dump(self.data, allow_unicode=True, sort_keys=False, width=100)


def parse_article(
    markdown: str,
    *,
    article_id: str | None = None,
    workload: str | None = None,
    slug: str | None = None,
) -> list[Draft]:
    """Entry and section drafts from one article, entries first; [] when it documents no codes.

    ``workload``: the entries' workload; by default the one of the article's ``slug`` (its file
    name) or title. ``slug`` serves only that.
    """
    meta, body = split_front_matter(markdown)
    blocks = split_blocks(body)
    aid = article_id if article_id is not None else article_id_of(meta, blocks)
    if section_id(aid) != aid:
        raise ValueError(f"article id {aid!r} must match ^[a-z0-9][a-z0-9-]{{1,79}}$")
    workload = workload if workload is not None else infer_workload(meta, slug)
    if workload not in WORKLOADS:
        raise ValueError(f"workload {workload!r} is none of {', '.join(WORKLOADS)}")
    article = Article(blocks, language(meta, body), aid, workload)
    entries = article.entries()
    if not entries:
        return []
    drafts = [Draft("entry", code, data) for code, data in entries.items()]
    return drafts + [
        Draft("section", sid, article.section(i)) for i, sid in article.sections.items()
    ]


def write_drafts(drafts: Sequence[Draft], out_dir: Path, *, overwrite: bool = False) -> list[Path]:
    """Write entries/<workload>/<Code>.yaml and sections/<id>.yaml; never clobber."""
    paths = [
        out_dir / "entries" / d.data["workload"] / f"{d.name}.yaml"
        if d.kind == "entry"
        else out_dir / "sections" / f"{d.name}.yaml"
        for d in drafts
    ]
    for path in paths if not overwrite else []:
        if path.exists():  # checked for all files first, so a refusal writes nothing
            raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
    for draft, path in zip(drafts, paths, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(draft.to_yaml(), encoding="utf-8")
    return paths
