"""Alembic's environment, configured by ``store.schema`` (no alembic.ini).

Online: the caller's connection, already locked and in its transaction (``store.schema`` commits).
Offline (``backup-fix db upgrade --sql``): the URL only, for its dialect; SQL goes to the output.
"""

from __future__ import annotations

from alembic import context

from store.tables import metadata

config = context.config

if context.is_offline_mode():
    context.configure(
        url=config.attributes["url"],
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
else:
    context.configure(connection=config.attributes["connection"], target_metadata=metadata)

with context.begin_transaction():
    context.run_migrations()
