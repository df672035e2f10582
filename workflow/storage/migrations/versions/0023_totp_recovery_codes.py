"""One-time recovery codes for a lost authenticator (issue 17, 2FA): the argon2 hashes of
a user's unused codes, on the user.

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

import workflow.storage.types

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_recovery_codes", workflow.storage.types.JSONType,
                                   nullable=False, server_default="[]"))  # none yet


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_recovery_codes")
