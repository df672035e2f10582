"""`python -m config.check`: settings valid, database and broker reachable — or one clear
line per problem naming the variable, and a non-zero exit (no traceback)."""

from __future__ import annotations

import sys

from config.settings import SettingsError, load_settings, redact


def problems() -> list[str]:
    try:
        settings = load_settings()
    except SettingsError as exc:
        return [f"configuration error: {exc}"]
    out = []
    try:
        from sqlalchemy import text

        from workflow.storage.db import make_engine

        engine = make_engine(settings.database_url, connect_args={"connect_timeout": 5}) \
            if not settings.uses_sqlite else make_engine(settings.database_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - reported as one line
        out.append(f"DATABASE_URL ({redact(settings.database_url)}) is unreachable: "
                   f"{_first_line(exc)}")
    try:
        from kombu import Connection

        with Connection(settings.broker_url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:  # noqa: BLE001
        out.append(f"CELERY_BROKER_URL ({redact(settings.broker_url)}) is unreachable: "
                   f"{_first_line(exc)}")
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def main() -> int:
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
