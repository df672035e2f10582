"""Fewer index writes per transition (issue 9), the same lookups.

- transition_history: the index on application_id alone is dropped; the unique
  (application_id, version) constraint's index serves every lookup by case.
- audit_log.at: a BRIN index instead of a B-tree. The log is append-only and written in
  time order, so block ranges summarise it exactly; an insert rarely touches the index.
- audit_log.event: (event, id) instead of (event), so the auditor's search by event
  reads newest first straight from the index instead of sorting every match.

SQLite has no BRIN: there `at` keeps an ordinary index.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_transition_history_application_id", table_name="transition_history")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.create_index("ix_audit_log_at", "audit_log", ["at"], postgresql_using="brin",
                    postgresql_with={"autosummarize": "on"})
    op.drop_index("ix_audit_log_event", table_name="audit_log")
    op.create_index("ix_audit_log_event_id", "audit_log", ["event", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_event_id", table_name="audit_log")
    op.create_index("ix_audit_log_event", "audit_log", ["event"])
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_transition_history_application_id", "transition_history",
                    ["application_id"])
