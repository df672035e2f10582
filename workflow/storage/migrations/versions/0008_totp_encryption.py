"""TOTP secrets encrypted at rest (issue 8, item 1).

- users.totp_secret widens to 200 characters to hold a sealed value
  (`aesgcm1:` + base64url(nonce ‖ ciphertext ‖ tag), see workflow/storage/sealed.py).
- Every secret still stored in clear is sealed here, with the key derived from the
  SECRET_KEY the application runs with (the settings' key `flask db upgrade` hands on;
  run by `alembic` alone, load_settings(): the SECRET_KEY variable, or instance/secret_key
  outside production). Run the upgrade with the application's own
  environment; without a SECRET_KEY in production it stops (nothing is changed) rather
  than seal with a key the application will not have. The key is read only when there is
  a clear secret to seal, so a new database needs none.
- Downgrade opens the sealed secrets again (same key) and narrows the column; a secret
  sealed with another key is dropped (that user enrols again, as after a reset).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

from workflow.storage import sealed

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMN = "users.totp_secret"  # = second_factor.TOTP_COLUMN (the associated data names it)
_users = sa.table("users", sa.column("id", sa.Integer),
                  sa.column("totp_secret", sa.String))


def _secret_key() -> str:
    """The key the caller's settings gave (workflow.storage.migrate), else the settings'."""
    config = op.get_context().config
    given = config.attributes.get("secret_key") if config is not None else None
    if given:
        return str(given)
    from config import load_settings

    return load_settings().secret_key


def _rewrite(to_sealed: bool) -> None:
    """Seal every clear secret (or open every sealed one); the key is read only if needed."""
    conn = op.get_bind()
    rows = [(row_id, value) for row_id, value in conn.execute(
        sa.select(_users.c.id, _users.c.totp_secret).where(_users.c.totp_secret.is_not(None)))
        if sealed.is_sealed(value) is not to_sealed]
    if not rows:
        return
    key = _secret_key()
    for row_id, value in rows:
        new = sealed.seal(key, COLUMN, row_id, value) if to_sealed else _open(key, row_id, value)
        conn.execute(sa.update(_users).where(_users.c.id == row_id).values(totp_secret=new))


def _open(key: str, row_id: int, value: str) -> str | None:
    """The clear secret; None (the user enrols again, as after a reset) if it was sealed
    with another SECRET_KEY: a 0007 column cannot hold the sealed value."""
    try:
        return sealed.unseal(key, COLUMN, row_id, value)
    except sealed.Unreadable:
        return None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("totp_secret", existing_type=sa.String(length=64),
                              type_=sa.String(length=200), existing_nullable=True)
    _rewrite(to_sealed=True)


def downgrade() -> None:
    _rewrite(to_sealed=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("totp_secret", existing_type=sa.String(length=200),
                              type_=sa.String(length=64), existing_nullable=True)
