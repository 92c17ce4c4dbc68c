"""The knowledge base of Azure Backup errors and the matcher that finds them in a paste."""

from knowledge.errors import KnowledgeBaseError, KnowledgeError
from knowledge.loader import KnowledgeBase, load_kb
from knowledge.matcher import (
    ANSWER_SCORE,
    SUGGEST_SCORE,
    Analysis,
    Match,
    Matcher,
    analyse,
    default_matcher,
    match,
)
from knowledge.model import Entry, Lang, Section, Text

__all__ = [
    "ANSWER_SCORE",
    "SUGGEST_SCORE",
    "Analysis",
    "Entry",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeError",
    "Lang",
    "Match",
    "Matcher",
    "Section",
    "Text",
    "analyse",
    "default_matcher",
    "load_kb",
    "match",
]
