"""Supervision by the provinces (002 §六(三), §四(四)): ad hoc reports on a base
(`case_reports`) and the provinces' periodic assessments reported to the ministry
(`provincial_assessments`).

Revision ID: 0026
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import workflow.storage.types

revision = "0026"
down_revision = "0024"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _at(name: str) -> sa.Column:
    return sa.Column(name, workflow.storage.types.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "case_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(),
                  sa.ForeignKey("applications.id",
                                name=op.f("fk_case_reports_application_id_applications")),
                  nullable=False),
        sa.Column("author_id", sa.Integer(),
                  sa.ForeignKey("users.id", name=op.f("fk_case_reports_author_id_users")),
                  nullable=False),
        sa.Column("author_name", sa.String(100), nullable=False),
        sa.Column("author_role", sa.String(30), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_reports")),
    )
    op.create_index("ix_case_reports_application", "case_reports", ["application_id", "id"])
    op.create_table(
        "provincial_assessments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(),
                  sa.ForeignKey("authorities.id",
                                name=op.f("fk_provincial_assessments_authority_id_authorities")),
                  nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(),
                  sa.ForeignKey("users.id",
                                name=op.f("fk_provincial_assessments_submitted_by_id_users")),
                  nullable=False),
        sa.Column("submitted_by_name", sa.String(100), nullable=False),
        _at("submitted_at"),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provincial_assessments")),
        sa.UniqueConstraint("period", "authority_id", "revision",
                            name="uq_provincial_assessment_revision"),
    )
    op.create_index(op.f("ix_provincial_assessments_authority_id"), "provincial_assessments",
                    ["authority_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_provincial_assessments_authority_id"),
                  table_name="provincial_assessments")
    op.drop_table("provincial_assessments")
    op.drop_index("ix_case_reports_application", table_name="case_reports")
    op.drop_table("case_reports")
