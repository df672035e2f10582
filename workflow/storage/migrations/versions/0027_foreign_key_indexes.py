"""Indexes under the foreign keys of the tables that grow with the cases: the outbox's
digest link, a notification's mail and case, a register event's case. Deleting or
folding rows looked each of them up with a full scan (SQLite checks a foreign key per
row it deletes): removing 100,000 cases' mail took hours, not seconds.

Revision ID: 0027
Revises: 0026
"""
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

INDEXES = (("ix_outbox_digest_id", "outbox", "digest_id"),
           ("ix_notifications_outbox_id", "notifications", "outbox_id"),
           ("ix_notifications_application_id", "notifications", "application_id"),
           ("ix_export_base_events_application_id", "export_base_events", "application_id"))


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
