"""Authorities as a tree (issue "Rounds and registers kept by people", item 3).

- authorities.parent_id: a prefecture-level city's province-level authority (None for the
  37 of 002); applications.authority_id may now name a city, whose province is derived.
- authorities.region_overridden: the city is classed apart from its province (a
  western-development prefecture such as 恩施州: West); `region` stays the region the
  criteria read.
- authorities.is_active: a deactivated city starts no application; its cases stay.
- an index on applications.authority_id: applicants now see their authority's cases, and
  a province the cases of its cities (authority_id never changes: no cost to updates).

SQLite adds the columns in place (ALTER TABLE … ADD COLUMN … REFERENCES): a table rebuild
would have to drop `authorities`, which users and applications reference.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("authorities", sa.Column(
        "parent_id", sa.Integer(),
        sa.ForeignKey("authorities.id", name=op.f("fk_authorities_parent_id_authorities")),
        nullable=True), inline_references=True)
    op.add_column("authorities", sa.Column("region_overridden", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.add_column("authorities", sa.Column("is_active", sa.Boolean(), nullable=False,
                                           server_default=sa.true()))
    op.create_index(op.f("ix_authorities_parent_id"), "authorities", ["parent_id"])
    op.create_index(op.f("ix_applications_authority_id"), "applications", ["authority_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_applications_authority_id"), table_name="applications")
    op.drop_index(op.f("ix_authorities_parent_id"), table_name="authorities")
    # 0012 knows the 37 province-level authorities only: a city's cases, accounts and
    # webhooks go to its province, then the cities go
    for table in ("applications", "users", "webhooks"):
        op.execute(f"UPDATE {table} SET authority_id = (SELECT a.parent_id FROM authorities a "
                   f"WHERE a.id = {table}.authority_id) WHERE authority_id IN "
                   "(SELECT id FROM authorities WHERE parent_id IS NOT NULL)")
    op.execute("DELETE FROM authorities WHERE parent_id IS NOT NULL")
    with op.batch_alter_table("authorities") as batch:
        batch.drop_column("is_active")
        batch.drop_column("region_overridden")
        batch.drop_column("parent_id")
