"""Schema changes for issue 9 (operations).

- audit_log.chain: the audit log is several independent hash chains (one per case, one
  "system" chain for everything else), so case actions no longer serialise on one global
  lock; (chain, id) orders a chain, UNIQUE (chain, prev_hash) makes a fork impossible.
  Existing records form the "system" chain, in id order, as before.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=80), server_default="system",
                                      nullable=False))
        batch_op.create_index("ix_audit_log_chain_id", ["chain", "id"], unique=False)
        batch_op.create_unique_constraint("uq_audit_log_chain_prev", ["chain", "prev_hash"])


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_log_chain_prev", type_="unique")
        batch_op.drop_index("ix_audit_log_chain_id")
        batch_op.drop_column("chain")
