"""What a reminder is about (issue 13): one catch-up mail per case and recipient.

- outbox.about: the obligations one reminder names, as a JSON list of
  {"kind", "due_on"} — a scan that finds several for the same case and recipient writes
  one mail naming them all, and the delivery check keeps it while any of them is open.
  NULL for a mail about one obligation (its kind and due_on say it).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import workflow.storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("about", workflow.storage.types.JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("about")
