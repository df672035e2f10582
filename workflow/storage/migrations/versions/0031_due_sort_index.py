"""An index on the inbox's default order (its due date, cases with none last, then id):
a page of the ministry's every case sorted all of them on each call (21–43 ms at 20,000
cases, growing with the years of cases kept); with the index it reads one page of it.

Revision ID: 0031
Revises: 0030
"""
import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the same expression as workflow.storage.models.due_sort_key, which the inbox orders by
    op.create_index("ix_applications_due_sort", "applications",
                    [sa.text("coalesce(due_on, '9999-12-31')"), "id"])


def downgrade() -> None:
    op.drop_index("ix_applications_due_sort", table_name="applications")
