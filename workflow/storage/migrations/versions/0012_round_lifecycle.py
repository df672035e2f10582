"""Rounds are planned, opened and closed by the programme's owner (issue 14).

- rounds.opened_on / rounds.closed_on: the days the round opened for applications and
  closed (its unfinished cases then wait on no one; its bases keep their duties). A round
  with neither is planned: its dates may still change. They replace `is_open`.
- Existing rounds: an open one counts as opened on 1 January of its year; a switched-off
  one as closed on 31 December; a `closes_on` in its rules becomes its closing day.

Revision ID: 0012
Revises: 0011
"""
import json
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE (SQLite ≥ 3.35 adds and drops a plain column in place): recreating
    # `rounds` would trip the foreign keys of the applications that reference it
    op.add_column("rounds", sa.Column("opened_on", sa.Date(), nullable=True))
    op.add_column("rounds", sa.Column("closed_on", sa.Date(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, year, is_open, params FROM rounds")).all()
    as_json = "CAST(:p AS JSONB)" if conn.dialect.name == "postgresql" else ":p"
    for rid, year, is_open, params in rows:
        if isinstance(params, str):
            params = json.loads(params)
        closes = (params or {}).pop("closes_on", None)
        closed = date.fromisoformat(closes) if closes else (None if is_open
                                                           else date(year, 12, 31))
        conn.execute(sa.text(f"UPDATE rounds SET opened_on = :o, closed_on = :c, "
                             f"params = {as_json} WHERE id = :i"),
                     {"o": date(year, 1, 1), "c": closed, "i": rid,
                      "p": json.dumps(params or {}, ensure_ascii=False)})
    op.drop_column("rounds", "is_open")


def downgrade() -> None:
    op.add_column("rounds", sa.Column("is_open", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.execute("UPDATE rounds SET is_open = (closed_on IS NULL)")
    op.drop_column("rounds", "opened_on")
    op.drop_column("rounds", "closed_on")
