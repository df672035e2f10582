"""Secrets at rest: TOTP secrets are stored sealed (AES-256-GCM, key from SECRET_KEY), the
database never holds one in clear, logging in with a code still works, and migration 0008
seals the secrets earlier versions stored in clear (GB/T 22239-2019 8.1.4.7; ASVS V11)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import text

from config import Settings
from tests import factories
from tests.conftest import PG_BASE, missing
from tests.databases import create_database, drop_database
from tests.factories import PASSWORD
from workflow.services import authentication, clock, passwords, second_factor
from workflow.storage.db import get_engine, make_engine, session_factory
from workflow.storage.migrate import downgrade, upgrade
from workflow.storage.uow import UnitOfWork

T = datetime(2006, 4, 20, 1, 0, tzinfo=UTC)
RUNS_WITH = "the-key-the-application-runs-with-" + "k" * 20


def settings_of(client: Any) -> Settings:
    """The settings of the app under test."""
    return client.application.config["SETTINGS"]  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(T)
    yield
    clock.freeze(None)


def everything_stored(db_url: str) -> str:
    """Every value of the users table and the audit log, as one text."""
    with get_engine(db_url).connect() as conn:
        rows = [*conn.execute(text("SELECT * FROM users")),
                *conn.execute(text("SELECT * FROM audit_log"))]
    return "\n".join(repr(tuple(r)) for r in rows)


def stored_secret(db_url: str, user_id: int) -> str:
    with get_engine(db_url).connect() as conn:
        return conn.execute(text("SELECT totp_secret FROM users WHERE id = :i"),
                            {"i": user_id}).scalar_one()


def test_an_enrolled_secret_is_never_stored_in_clear_and_the_code_still_logs_in(
        app: Any, world: factories.World, db_url: str) -> None:
    client = app.test_client()
    assert client.post("/login", data={"username": "auditor", "password": PASSWORD}
                       ).status_code == 302
    page = client.get("/account/totp").get_data(as_text=True)
    with client.session_transaction() as sess:
        secret = sess["totp_pending"]
    # shown to the user once, to type into the app (in blocks of four)
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page
    assert client.post("/account/totp", data={"otp": pyotp.TOTP(secret).at(T)}
                       ).status_code == 200
    assert secret not in everything_stored(db_url)
    assert stored_secret(db_url, world.id("auditor")).startswith("aesgcm1:")

    clock.freeze(T + timedelta(seconds=60))
    again = app.test_client()
    assert again.post("/login", data={"username": "auditor", "password": PASSWORD}
                      ).headers["Location"].endswith("/login/otp")
    r = again.post("/login/otp", data={"otp": pyotp.TOTP(secret).at(clock.utcnow())})
    assert r.status_code == 302
    assert again.get("/admin/audit").status_code == 200


def test_a_sealed_secret_copied_onto_another_account_does_not_open_there(
        client: Any, world: factories.World, db_url: str) -> None:
    secret = second_factor.new_totp_secret()
    second_factor.enrol_totp(world.uow(), world.id("hubei_reviewer"), secret, pyotp.TOTP(secret).at(T),
                        secret_key=settings_of(client).secret_key)
    copied = stored_secret(db_url, world.id("hubei_reviewer"))
    with get_engine(db_url).begin() as conn:  # someone with write access to the table
        conn.execute(text("UPDATE users SET totp_secret = :s WHERE id = :i"),
                     {"s": copied, "i": world.id("hunan_reviewer")})
    clock.freeze(T + timedelta(seconds=60))
    r = client.post("/api/v1/auth/token", json={
        "username": "hunan_reviewer", "password": PASSWORD,
        "otp": pyotp.TOTP(secret).at(clock.utcnow())})
    assert r.status_code == 401 and r.get_json()["errors"][0]["code"] == "invalid_totp"


def test_a_changed_secret_key_refuses_the_code_instead_of_failing(
        client: Any, world: factories.World) -> None:
    secret = second_factor.new_totp_secret()
    second_factor.enrol_totp(world.uow(), world.id("hubei_reviewer"), secret, pyotp.TOTP(secret).at(T),
                        secret_key=settings_of(client).secret_key)
    client.application.config["SETTINGS"] = dataclasses.replace(
        settings_of(client), secret_key="another-key-" + "x" * 40)
    clock.freeze(T + timedelta(seconds=60))
    r = client.post("/api/v1/auth/token", json={
        "username": "hubei_reviewer", "password": PASSWORD,
        "otp": pyotp.TOTP(secret).at(clock.utcnow())})
    assert r.status_code == 401 and r.get_json()["errors"][0]["code"] == "invalid_totp"


# --- migration 0008 -------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (the migration is run part way, then on)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    try:
        url = create_database(PG_BASE, "eib_at_rest")
    except Exception as exc:  # noqa: BLE001
        missing("PostgreSQL", f"{type(exc).__name__}")
    yield url
    drop_database(url)


def test_upgrading_seals_the_secrets_earlier_versions_kept_in_clear(
        fresh_db: str) -> None:
    upgrade(fresh_db, "0007")
    secret = pyotp.random_base32()
    engine = make_engine(fresh_db)
    with engine.begin() as conn:  # an account as version 0007 stored it
        conn.execute(text(
            "INSERT INTO users (id, username, display_name, email, role, is_head, "
            "password_hash, password_history, must_change_password, is_active, locale, "
            "mail_digest, failed_logins, session_epoch, totp_secret, created_at) VALUES "
            "(1, 'auditor', '审计员', 'a@example.gov.cn', 'auditor', false, :h, '[]', false, "
            "true, 'zh', false, 0, 0, :s, :t)"),
            {"h": passwords.hash_password(PASSWORD), "s": secret, "t": T})
    engine.dispose()
    upgrade(fresh_db, secret_key=RUNS_WITH)  # what migration 0008 seals with
    sealed = stored_secret(fresh_db, 1)
    assert sealed.startswith("aesgcm1:") and secret not in sealed
    uow = lambda: UnitOfWork(factory=session_factory(fresh_db))  # noqa: E731
    login = authentication.check_password(uow(), "auditor", PASSWORD, now=T)
    assert login.needs_totp
    assert authentication.check_totp(uow(), 1, pyotp.TOTP(secret).at(T), now=T,
                               secret_key=RUNS_WITH).user_id == 1
    downgrade(fresh_db, "0007", secret_key=RUNS_WITH)  # and back: the clear value 0007 expects
    assert stored_secret(fresh_db, 1) == secret
