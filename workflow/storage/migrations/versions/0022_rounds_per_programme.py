"""A year has one round per programme (issue "Programmes as data", item 4): notice 002's
2027 round and a province's own 2027 round are two rounds. The unique key moves from
`year` to (`programme`, `year`).

Revision ID: 0022
Revises: 0021
"""
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds") as batch:
        batch.drop_constraint("uq_rounds_year", type_="unique")
        batch.create_unique_constraint("uq_rounds_programme_year", ["programme", "year"])


def downgrade() -> None:
    with op.batch_alter_table("rounds") as batch:
        batch.drop_constraint("uq_rounds_programme_year", type_="unique")
        batch.create_unique_constraint("uq_rounds_year", ["year"])
