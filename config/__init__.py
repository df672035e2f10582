"""Settings read from environment variables (see the table in README.md)."""

from config.settings import Settings, SettingsError, for_tests, load_settings

__all__ = ["Settings", "SettingsError", "for_tests", "load_settings"]
