"""Errors of the knowledge package.

KnowledgeError
└── KnowledgeBaseError   a defect in a knowledge-base file (file, entry, field)
"""

from __future__ import annotations

from pathlib import Path


class KnowledgeError(Exception):
    """Base class of the knowledge package's errors."""


class KnowledgeBaseError(KnowledgeError):
    """A knowledge-base file is unreadable or invalid; the message names file, entry and field."""

    def __init__(
        self, path: Path | str, entry: str | None, field: str | None, problem: str
    ) -> None:
        self.path = Path(path)
        self.entry = entry
        self.field = field
        self.problem = problem
        parts = [str(self.path)]
        if entry:
            parts.append(f"entry {entry!r}")
        if field:
            parts.append(f"field {field!r}")
        super().__init__(f"{': '.join(parts)}: {problem}")
