"""Position tests reuse the store suite's SQLite and PostgreSQL fixtures."""

from tests.store.conftest import migrated_url, pg_databases, store, store_url

__all__ = ["migrated_url", "pg_databases", "store", "store_url"]
