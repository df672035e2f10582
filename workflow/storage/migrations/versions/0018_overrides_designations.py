"""Overrides, late steps and designation decisions (issue 16, items 4, 11, 12).

- applications.overridden_criteria: the criteria of 002 §六 that reviewers moved the case
  on despite, each time with a reason kept in the history (guard `failed_criteria`).
- applications.late_steps: the steps taken after the round's deadline (002 §六(三):
  `recommend` after 30 April, `approve` after the end of May), each with its reason.
- designation_decisions: the ministry's numbered designation decision (授牌): one per
  round and day of approval, numbered per year (商技函〔2006〕1号, 2号, …), covering every
  base approved in that round that day; export_bases.decision_id names it.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

import workflow.storage.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("applications", sa.Column("overridden_criteria",
                                            workflow.storage.types.JSONType, nullable=True))
    op.add_column("applications", sa.Column("late_steps", workflow.storage.types.JSONType,
                                            nullable=True))
    op.create_table(
        "designation_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("document", sa.String(length=100), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("created_at", workflow.storage.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_designation_decisions_round_id_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designation_decisions")),
        sa.UniqueConstraint("year", "number", name="uq_designation_decisions_number"),
        sa.UniqueConstraint("round_id", "issued_on", name="uq_designation_decisions_day"),
    )
    with op.batch_alter_table("export_bases") as batch:
        batch.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_export_bases_decision_id_designation_decisions",
                                 "designation_decisions", ["decision_id"], ["id"])
        batch.create_index("ix_export_bases_decision_id", ["decision_id"])


def downgrade() -> None:
    with op.batch_alter_table("export_bases") as batch:
        batch.drop_index("ix_export_bases_decision_id")
        batch.drop_constraint("fk_export_bases_decision_id_designation_decisions",
                              type_="foreignkey")
        batch.drop_column("decision_id")
    op.drop_table("designation_decisions")
    op.drop_column("applications", "late_steps")
    op.drop_column("applications", "overridden_criteria")
