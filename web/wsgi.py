"""WSGI entry point for gunicorn: `gunicorn web.wsgi:app`. Bad settings: one line, exit 2."""

from __future__ import annotations

import sys

from config import SettingsError

try:
    from web import create_app

    app = create_app()
except SettingsError as exc:
    print(f"configuration error: {exc}", file=sys.stderr)
    sys.exit(2)
