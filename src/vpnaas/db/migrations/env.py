"""Alembic environment: run migrations on the engine vpnaas hands over."""

from __future__ import annotations

from alembic import context

from vpnaas.db.tables import schema

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=schema().metadata,
        render_as_batch=context.config.attributes.get("batch", False),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
