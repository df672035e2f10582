"""A user's saved inbox filters (issue 17): a name, and the inbox's filters, search and
order as query arguments; one name once per user.

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import workflow.storage.types

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", name=op.f("fk_saved_filters_user_id_users")),
                  nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("created_at", workflow.storage.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_filters")),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_filters_user_name"),
    )


def downgrade() -> None:
    op.drop_table("saved_filters")
