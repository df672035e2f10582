"""Form values as one document per application (issue "Programmes as data", item 5).

The sixteen columns of notice 002's 申报书 (contact block and 第一项 figures) move into
`applications.form`, a JSON object (JSONB on PostgreSQL) keyed by the programme's field
names: decimals and dates as their exact text, counts as numbers, nothing for an empty
field. `applicant_name` stays a column — every programme's case is named by it, and lists,
search and the register read it. Lossless both ways: downgrade puts every value back.

Revision ID: 0021
Revises: 0017
"""
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0017"
branch_labels = None
depends_on = None

MONEY, PCT = sa.Numeric(18, 4), sa.Numeric(9, 2)
COLUMNS: tuple[tuple[str, Any], ...] = (
    ("contact_person", sa.String(50)), ("contact_phone", sa.String(30)),
    ("contact_email", sa.String(120)), ("filled_on", sa.Date()), ("address", sa.String(300)),
    ("characteristic_industry", sa.String(300)), ("enterprise_count", sa.Integer()),
    ("total_sales_100m_cny", MONEY), ("total_assets_10k_cny", MONEY),
    ("exports_100m_usd", MONEY), ("export_growth_pct", PCT), ("profit_tax_10k_cny", MONEY),
    ("hightech_exports_100m_usd", MONEY), ("hightech_export_growth_pct", PCT),
    ("hightech_export_growth_pct_prev1", PCT), ("hightech_export_growth_pct_prev2", PCT),
    ("employees", sa.Integer()),
)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BATCH = 1000


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def upgrade() -> None:
    op.add_column("applications", sa.Column("form", JSON, nullable=False,
                                            server_default=sa.text("'{}'")))
    conn = op.get_bind()
    apps = sa.table("applications", sa.column("id", sa.Integer), sa.column("form", JSON),
                    *(sa.column(name, type_) for name, type_ in COLUMNS))
    last = 0
    while True:
        rows = conn.execute(sa.select(apps.c.id, *(apps.c[n] for n, _t in COLUMNS))
                            .where(apps.c.id > last).order_by(apps.c.id).limit(BATCH)).all()
        if not rows:
            break
        for r in rows:
            doc = {n: _plain(v) for (n, _t), v in zip(COLUMNS, r[1:], strict=True)
                   if v is not None}
            conn.execute(apps.update().where(apps.c.id == r[0]).values(form=doc))
        last = rows[-1][0]
    with op.batch_alter_table("applications") as batch:
        for name, _type in COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    conn = op.get_bind()
    apps = sa.table("applications", sa.column("id", sa.Integer), sa.column("form", JSON),
                    *(sa.column(name, type_) for name, type_ in COLUMNS))
    for app_id, doc in conn.execute(sa.select(apps.c.id, apps.c.form)).all():
        doc = doc or {}
        values: dict[str, Any] = {}
        for name, type_ in COLUMNS:
            raw = doc.get(name)
            if raw is None:
                continue
            if isinstance(type_, sa.Numeric):
                values[name] = Decimal(str(raw))
            elif isinstance(type_, sa.Date):
                values[name] = date.fromisoformat(str(raw))
            else:
                values[name] = raw
        if values:
            conn.execute(apps.update().where(apps.c.id == app_id).values(**values))
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("form")
