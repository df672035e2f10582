"""Rounds belong to a programme (issue "Programmes as data", item 4).

- rounds.programme: the code of the programme definition the round runs (programmes/
  <code>.toml); every existing round runs notice 002's, `mofcom-2006-6`.
- rounds.programme_source / programme_hash: the definition as it was when the round opened
  (its text and sha256): a case never changes rules mid-round, and a new version of the
  file applies to new rounds. NULL while the round is planned (it follows the file).
  Existing open or closed rounds keep following the file until they are re-opened.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rounds", sa.Column("programme", sa.String(60), nullable=False,
                                      server_default="mofcom-2006-6"))
    op.add_column("rounds", sa.Column("programme_source", sa.Text(), nullable=True))
    op.add_column("rounds", sa.Column("programme_hash", sa.String(64), nullable=True))
    op.create_index("ix_rounds_programme", "rounds", ["programme"])


def downgrade() -> None:
    op.drop_index("ix_rounds_programme", table_name="rounds")
    op.drop_column("rounds", "programme_hash")
    op.drop_column("rounds", "programme_source")
    op.drop_column("rounds", "programme")
