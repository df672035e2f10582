"""Schema changes for issue 6 (re-evaluation).

Quarterly and annual reports keep every revision (one `is_current` row per base and
period); the annual report gains the structured summary the assessment reads; an
evaluation keeps its explanation in both languages.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarterly_reports", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_quarterly_revision", ["application_id", "year", "quarter", "revision"])
    with op.batch_alter_table("annual_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False,
                                      server_default="1"))
        batch_op.add_column(sa.Column("policies_in_force", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("project_funding_10k_cny",
                                      sa.Numeric(precision=18, scale=4), nullable=True))
        batch_op.create_unique_constraint("uq_annual_revision",
                                          ["application_id", "year", "revision"])
    with op.batch_alter_table("annual_reports", schema=None) as batch_op:
        batch_op.alter_column("revision", server_default=None)
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("explanation_zh", sa.Text(), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("explanation_en", sa.Text(), nullable=False,
                                      server_default=""))
        batch_op.create_index("ix_evaluations_period_status", ["period", "status"],
                              unique=False)
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.alter_column("explanation_zh", server_default=None)
        batch_op.alter_column("explanation_en", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluations_period_status")
        batch_op.drop_column("explanation_en")
        batch_op.drop_column("explanation_zh")
    with op.batch_alter_table("annual_reports", schema=None) as batch_op:
        batch_op.drop_constraint("uq_annual_revision", type_="unique")
        batch_op.drop_column("project_funding_10k_cny")
        batch_op.drop_column("policies_in_force")
        batch_op.drop_column("revision")
    with op.batch_alter_table("quarterly_reports", schema=None) as batch_op:
        batch_op.drop_constraint("uq_quarterly_revision", type_="unique")
