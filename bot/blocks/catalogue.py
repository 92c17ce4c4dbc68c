"""``/backup-fix list``: the known codes grouped by the article they come from."""

from __future__ import annotations

from bot.blocks.labels import label
from bot.blocks.pack import Reply, Unit, pack
from bot.blocks.text import escape, header, link, text_blocks, tr
from knowledge.loader import KnowledgeBase
from knowledge.model import Entry, Lang


def list_replies(kb: KnowledgeBase, lang: Lang) -> list[Reply]:
    """Every entry's code and title under its article's title, split to respect Slack's limits."""
    title = label("list_title", lang).format(count=str(len(kb.entries)))
    units = [Unit(text=escape(title), groups=[[header(title)]])]
    by_article: dict[str, list[Entry]] = {a: [] for a in kb.articles}
    for entry in kb.entries:
        # An entry is listed once, under the article its first doc link points into.
        by_article.setdefault(entry.docs[0].article, []).append(entry)
    for article_id, entries in by_article.items():
        article = kb.articles.get(article_id)
        if not entries or article is None:
            continue
        url = article.url(lang)
        lines = [f"*{link(url, article.title.get(lang))}*"]
        lines += [
            f"• `{escape(e.code)}` {escape(e.title.get(lang), markup=True)}"
            for e in sorted(entries, key=lambda e: e.code.casefold())
        ]
        more = link(url, tr("more", lang))
        blocks = text_blocks("\n".join(lines), f"article-{article_id}", more=more)
        # One group per block: a long article may flow over into the next message.
        units.append(Unit(text=escape(article.title.get(lang)), groups=[[b] for b in blocks]))
    return pack(units)
