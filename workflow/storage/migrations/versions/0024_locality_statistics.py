"""Reference statistics per authority (issue 16, item 2): 002 §六(二)(3)'s 本地区外贸出口增幅
is the applicant's own locality's (its province's, or its city's where the applicant is
a city), not a macro-region's. locality_statistics keeps one figure per authority and
year with its source and statistics catalogue (national | local).

The old per-region figures (reference_statistics.region_export_growth_pct) are kept as
they were: the verdict uses them only where an authority has no figures of its own, and
says so (basis `macro_region_fallback`). They are not copied to the provinces: a
macro-region's figure is no province's statistic.

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

import workflow.storage.types

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "locality_statistics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("export_growth_pct", sa.Numeric(9, 2), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("catalogue", sa.String(length=10), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", workflow.storage.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(["authority_id"], ["authorities.id"],
                                name=op.f("fk_locality_statistics_authority_id_authorities")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_locality_statistics_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locality_statistics")),
        sa.UniqueConstraint("authority_id", "year",
                            name="uq_locality_statistics_authority_year"),
    )
    op.create_index("ix_locality_statistics_authority_id", "locality_statistics",
                    ["authority_id"])


def downgrade() -> None:
    op.drop_index("ix_locality_statistics_authority_id", table_name="locality_statistics")
    op.drop_table("locality_statistics")
