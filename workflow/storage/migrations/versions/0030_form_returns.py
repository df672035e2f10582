"""A refused form's typing and errors, kept server-side for the GET its browser is
redirected to (post/redirect/get, issue 17): one row per user, session and form, shown
once and deleted, expiring unseen.

Revision ID: 0030
Revises: 0029
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import workflow.storage.types

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "form_returns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", name=op.f("fk_form_returns_user_id_users"),
                                ondelete="CASCADE"),
                  nullable=False),
        sa.Column("session_id", sa.String(40), nullable=False),
        sa.Column("form", sa.String(80), nullable=False),
        sa.Column("shown", JSON, nullable=False),
        sa.Column("created_at", workflow.storage.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_returns")),
        sa.UniqueConstraint("user_id", "session_id", "form",
                            name="uq_form_returns_user_session_form"),
    )
    op.create_index(op.f("ix_form_returns_user_id"), "form_returns", ["user_id"])
    op.create_index(op.f("ix_form_returns_created_at"), "form_returns", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_form_returns_created_at"), table_name="form_returns")
    op.drop_index(op.f("ix_form_returns_user_id"), table_name="form_returns")
    op.drop_table("form_returns")
