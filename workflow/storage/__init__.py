"""Persistence: SQLAlchemy mappings, repositories, unit of work, Alembic migrations."""
