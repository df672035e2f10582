"""Event notifications, claims and comments (issue 17, items 2 and 3).

- users.notify_by_mail: a person's choice for events (transitions, mentions): in-app only
  or in-app and by mail (the default).
- transition_notices: the transitions whose people have been told; every transition
  before this revision counts as told, so upgrading sends nothing about the past.
- transition_history.at indexed: the notifier reads the recent transitions.
- assignments: who works a case now (claim / assign), one per case.
- comments: internal notes and remarks to the applicant, with their @-mentions.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

import workflow.storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _at(name: str) -> sa.Column:
    return sa.Column(name, workflow.storage.types.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("notify_by_mail", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    op.create_index("ix_transition_history_at", "transition_history", ["at"])
    op.create_table(
        "transition_notices",
        sa.Column("history_id", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=False),
        _at("done_at"),
        sa.ForeignKeyConstraint(["history_id"], ["transition_history.id"],
                                name=op.f("fk_transition_notices_history_id_transition_history")),
        sa.PrimaryKeyConstraint("history_id", name=op.f("pk_transition_notices")),
    )
    op.execute("INSERT INTO transition_notices (history_id, notified, done_at) "
               "SELECT id, 0, at FROM transition_history")
    op.create_table(
        "assignments",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=False),
        _at("assigned_at"),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_assignments_application_id_applications")),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"],
                                name=op.f("fk_assignments_assignee_id_users")),
        sa.ForeignKeyConstraint(["assigned_by_id"], ["users.id"],
                                name=op.f("fk_assignments_assigned_by_id_users")),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_assignee_id"), "assignments", ["assignee_id"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("author_role", sa.String(length=30), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("mentions", workflow.storage.types.JSONType, nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_comments_application_id_applications")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_comments_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index("ix_comments_application", "comments", ["application_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_comments_application", table_name="comments")
    op.drop_table("comments")
    op.drop_index(op.f("ix_assignments_assignee_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("transition_notices")
    op.drop_index("ix_transition_history_at", table_name="transition_history")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("notify_by_mail")
