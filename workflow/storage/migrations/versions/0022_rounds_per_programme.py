"""A year has one round per programme (issue "Programmes as data", item 4): notice 002's
2027 round and a province's own 2027 round are two rounds. The unique key moves from
`year` to (`programme`, `year`).

Revision ID: 0022
Revises: 0021
"""
import logging

import sqlalchemy as sa
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
    """Back to one round a year — unless two programmes' rounds share a year: then nothing
    is deleted to make it fit; the year keeps a plain index and a warning says why."""
    shared = op.get_bind().execute(sa.text(
        "SELECT year FROM rounds GROUP BY year HAVING count(*) > 1")).scalars().all()
    with op.batch_alter_table("rounds") as batch:
        batch.drop_constraint("uq_rounds_programme_year", type_="unique")
        if shared:
            batch.create_index("ix_rounds_year", ["year"])
        else:
            batch.create_unique_constraint("uq_rounds_year", ["year"])
    if shared:
        logging.getLogger("alembic.runtime.migration").warning(
            "rounds of several programmes share the years %s: the year stays unconstrained "
            "(no round is deleted)", ", ".join(map(str, shared)))
