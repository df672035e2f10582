"""Schema changes for issue 8 (security and audit).

- users.totp_last_step: the last TOTP time step accepted (a code works once);
- audit_log.utc_offset, audit_log.actor_role: the record's local offset and the actor's role;
- login_failures: the lockout counter per (user name, client IP);
- PostgreSQL: a trigger refusing UPDATE and DELETE on audit_log (append-only, GB/T 22239-2019
  8.1.4.3 c); the hash chain detects what a superuser does anyway.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import workflow.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("utc_offset", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("actor_role", sa.String(length=30), nullable=True))
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", workflow.storage.types.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column("last_failed_at", workflow.storage.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
        sa.UniqueConstraint("username", "ip", name="uq_login_failures_username_ip"),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_username"), ["username"],
                              unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_username"))
    op.drop_table("login_failures")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("actor_role")
        batch_op.drop_column("utc_offset")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
