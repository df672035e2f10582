"""The words of what the services write to people — mails, in-app notices, remarks — in
each recipient's language, from Babel's catalogues (the ones the web UI uses).

Shared by the reminder scan, the event notices, comments and supervision; it imports no
other service, so none of them reaches another through it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import Translations

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
LOCALES = ("zh", "en")


@lru_cache(maxsize=4)
def _translations(locale: str) -> Translations:
    """Babel's catalogue for `locale` from web/translations (the one the web UI uses);
    Chinese, the msgids' language, needs none, and a missing catalogue falls back to it."""
    found = Translations.load(TRANSLATIONS, [locale])
    return found if isinstance(found, Translations) else Translations()


def translate(msgid: str, locale: str, **values: Any) -> str:
    """gettext for mail: the recipient's language, Chinese by default."""
    text = _translations(locale if locale in LOCALES else "zh").gettext(msgid)
    return text % values if values else text


def fmt_date(day: Any, locale: str) -> str:
    """A date as the recipient reads it: 2006年4月30日, or 2006-04-30 in English."""
    if locale == "en":
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"
