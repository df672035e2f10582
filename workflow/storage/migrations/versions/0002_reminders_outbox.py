"""Schema changes for issue 5 (reminders and outbox).

- applications.next_reminder_on (indexed): the scan selects only the cases due today.
- outbox.digest_id: the daily digest a held reminder went out in.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FINISHED = ("revoked", "declined", "rejected", "objection_upheld", "withdrawn")


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_reminder_on", sa.Date(), nullable=True))
        batch_op.create_index("ix_applications_next_reminder", ["next_reminder_on", "id"],
                              unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_outbox_digest_id_outbox"), "outbox",
                                    ["digest_id"], ["id"])
    # cases that already exist are looked at by the first scan
    apps = sa.table("applications", sa.column("state", sa.String),
                    sa.column("next_reminder_on", sa.Date))
    op.execute(apps.update().where(apps.c.state.not_in(FINISHED))
               .values(next_reminder_on=sa.func.current_date()))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_outbox_digest_id_outbox"), type_="foreignkey")
        batch_op.drop_column("digest_id")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_next_reminder")
        batch_op.drop_column("next_reminder_on")
