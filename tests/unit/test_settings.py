"""Bad configuration: one clear line naming the variable, a non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "APP_ENV", "PORT",
                 "SMTP_TLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))


def test_defaults_need_no_server_and_generate_a_secret_key_once(tmp_path: Path) -> None:
    s = load_settings()
    assert s.database_url == f"sqlite:///{tmp_path / 'app.db'}"
    assert s.broker_url == f"sqla+sqlite:///{tmp_path / 'broker.db'}"
    assert s.port == 8000 and s.timezone == "Asia/Shanghai"
    assert len(s.secret_key) == 64
    assert load_settings().secret_key == s.secret_key  # kept in instance/, not regenerated


def test_workers_starting_together_on_a_fresh_instance_share_one_secret_key(
        tmp_path: Path) -> None:
    """gunicorn's workers each load the settings at once; a form served by one worker must
    be accepted by the next (its CSRF token is signed with the key), so all read one key."""
    code = "from config.settings import load_settings; print(load_settings().secret_key)"
    env = {"INSTANCE_PATH": str(tmp_path / "fresh"), "PATH": "/usr/bin:/bin"}
    for attempt in range(3):
        env["INSTANCE_PATH"] = str(tmp_path / f"fresh{attempt}")
        workers = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                                    stdout=subprocess.PIPE, text=True) for _ in range(6)]
        keys = {w.communicate(timeout=60)[0].strip() for w in workers}
        assert len(keys) == 1 and len(keys.pop()) == 64
        assert [p.name for p in (tmp_path / f"fresh{attempt}").iterdir()] == ["secret_key"]


def test_a_plain_postgresql_url_uses_psycopg_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://eib:pw@db/eib")
    assert load_settings().database_url == "postgresql+psycopg://eib:pw@db/eib"


@pytest.mark.parametrize(("name", "value", "words"), [
    ("DATABASE_URL", "mysql://x/y", "scheme 'mysql' is not supported"),
    ("DATABASE_URL", "postgresql+psycopg://u@h:99999/db", "DATABASE_URL is malformed"),
    ("CELERY_BROKER_URL", "kafka://h", "scheme 'kafka' is not supported"),
    ("CELERY_BROKER_URL", "redis://", "no host"),
    ("PORT", "eighty", "not a whole number"),
    ("SMTP_TLS", "maybe", "must be none, starttls or ssl"),
    ("TRUSTED_PROXIES", "nginx", "not a whole number"),
    ("WEBHOOK_ALLOWED_HOSTS", "10.0.0.1,http://hooks/", "neither a host name"),
    ("APP_NOW", "next Tuesday", "not an ISO 8601 moment"),
])
def test_a_malformed_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                      words: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert name in str(err.value) and words in str(err.value)


@pytest.mark.parametrize(("name", "value", "field", "read"), [
    ("WEBHOOK_ALLOWED_HOSTS", " 10.20.0.0/16, Hooks.Internal ", "webhook_allowed_hosts",
     ("10.20.0.0/16", "hooks.internal")),
    ("TRUSTED_PROXIES", "2", "trusted_proxies", 2),
    ("MAX_UPLOAD_MB", "1", "max_upload_mb", 1),
    ("UPLOAD_DIR", "/srv/eib/uploads", "upload_dir", Path("/srv/eib/uploads")),
    ("RATELIMIT_STORAGE_URI", "redis://cache:6379/3", "ratelimit_storage_uri",
     "redis://cache:6379/3"),
    ("REMINDER_SCAN_SECONDS", "120", "reminder_scan_seconds", 120),
    ("MAIL_FLUSH_SECONDS", "30", "mail_flush_seconds", 30),
    ("SECRET_KEY", "k" * 40, "secret_key", "k" * 40),
])
def test_each_variable_reaches_its_setting(monkeypatch: pytest.MonkeyPatch, name: str,
                                           value: str, field: str, read: object) -> None:
    """The tests hand the app and the worker `Settings`; this is where the variables an
    operator sets become those settings."""
    monkeypatch.setenv(name, value)
    assert getattr(load_settings(), field) == read


def test_app_now_without_an_offset_is_china_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_NOW", "2006-05-08T09:00")
    assert load_settings().app_now.isoformat() == "2006-05-08T09:00:00+08:00"  # type: ignore[union-attr]


def test_production_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(SettingsError, match="SECRET_KEY is not set"):
        load_settings()


def test_the_check_prints_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path),
           "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    r = subprocess.run([sys.executable, "-m", "config.check"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("DATABASE_URL (") and "unreachable" in lines[0]
    assert "Traceback" not in r.stderr


def test_the_wsgi_entry_refuses_production_without_a_key_in_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path), "APP_ENV": "production"}
    r = subprocess.run([sys.executable, "-c", "import web.wsgi"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == ("configuration error: SECRET_KEY is not set; production mode "
                                "refuses to start without it")
