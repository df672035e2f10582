"""A quarter's base figures as one document per report (issue 15).

The three figures notice 002's bases report each quarter (exports_10k_usd,
hightech_exports_10k_usd, enterprise_count) move into `quarterly_reports.figures`, a JSON
object (JSONB on PostgreSQL) keyed by the programme's column keys, so that a programme may
add a base-level column in its file alone: decimals as their exact text, counts as numbers,
nothing for an empty figure (as 0021 did for the form). Lossless both ways: downgrade puts
every value back in its column.

Revision ID: 0029
Revises: 0028
"""
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

COLUMNS: tuple[tuple[str, Any], ...] = (
    ("exports_10k_usd", sa.Numeric(18, 4)), ("hightech_exports_10k_usd", sa.Numeric(18, 4)),
    ("enterprise_count", sa.Integer()),
)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BATCH = 1000


def _reports() -> sa.TableClause:
    return sa.table("quarterly_reports", sa.column("id", sa.Integer), sa.column("figures", JSON),
                    *(sa.column(name, type_) for name, type_ in COLUMNS))


def _plain(value: Any) -> Any:
    return format(value, "f") if isinstance(value, Decimal) else value


def upgrade() -> None:
    op.add_column("quarterly_reports", sa.Column("figures", JSON, nullable=False,
                                                 server_default=sa.text("'{}'")))
    conn = op.get_bind()
    reports = _reports()
    last = 0
    while True:
        rows = conn.execute(sa.select(reports.c.id, *(reports.c[n] for n, _t in COLUMNS))
                            .where(reports.c.id > last).order_by(reports.c.id)
                            .limit(BATCH)).all()
        if not rows:
            break
        for r in rows:
            doc = {n: _plain(v) for (n, _t), v in zip(COLUMNS, r[1:], strict=True)
                   if v is not None}
            if doc:
                conn.execute(reports.update().where(reports.c.id == r[0]).values(figures=doc))
        last = rows[-1][0]
    with op.batch_alter_table("quarterly_reports") as batch:
        for name, _type in COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    """The three columns back from each document; a figure a programme added since has no
    column to go to and is dropped with the document."""
    with op.batch_alter_table("quarterly_reports") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    conn = op.get_bind()
    reports = _reports()
    last = 0
    while True:
        rows = conn.execute(sa.select(reports.c.id, reports.c.figures)
                            .where(reports.c.id > last).order_by(reports.c.id)
                            .limit(BATCH)).all()
        if not rows:
            break
        for report_id, doc in rows:
            values: dict[str, Any] = {}
            for name, type_ in COLUMNS:
                raw = (doc or {}).get(name)
                if raw is not None:
                    values[name] = Decimal(str(raw)) if isinstance(type_, sa.Numeric) \
                        else int(raw)
            if values:
                conn.execute(reports.update().where(reports.c.id == report_id)
                             .values(**values))
        last = rows[-1][0]
    with op.batch_alter_table("quarterly_reports") as batch:
        batch.drop_column("figures")
