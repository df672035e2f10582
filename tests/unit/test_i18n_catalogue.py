"""The English catalogue covers every UI string, and the committed .mo is the .po as the
locked Babel compiles it (`make messages`; `make test` does not compile, so it checks)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import babel
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.lockfile import locked_version

WEB = Path(__file__).resolve().parents[2] / "web"
PO = WEB / "translations/en/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None,
            "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _ui_strings() -> dict[str, str]:
    """msgid -> where it is used, for every gettext call in web/ (python and templates)."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
            str(WEB), METHODS, keywords=KEYWORDS, options_map={
                "**/templates/**.html": {"extensions": "jinja2.ext.do"}}):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"web/{filename}:{lineno}")
    return found


def _catalogue() -> dict[str, str]:
    with open(PO, "rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id}


def test_every_ui_string_has_an_english_translation() -> None:
    catalogue = _catalogue()
    missing = [f"{where}: {msgid}" for msgid, where in _ui_strings().items()
               if not catalogue.get(msgid)]
    assert not missing, ("untranslated UI strings (append them to " + str(PO.relative_to(
        WEB.parent)) + " then run `make messages`):\n" + "\n".join(sorted(missing)))


def test_translations_keep_the_placeholders_of_the_chinese() -> None:
    wrong = [msgid for msgid, text in _catalogue().items()
             if text and set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(text))]
    assert not wrong, f"placeholders differ between Chinese and English: {wrong}"


def test_no_msgid_appears_twice_in_the_catalogue() -> None:
    ids = re.findall(r'^msgid "(.+)"$', PO.read_text(encoding="utf-8"), flags=re.M)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert not twice, f"duplicate msgids in messages.po: {twice}"


def test_the_catalogue_is_compiled_by_the_locked_babel() -> None:
    # the .mo names the Babel that wrote it (Generated-By), so only one version can match
    assert babel.__version__ == locked_version("babel"), (
        f"Babel {babel.__version__} is installed, requirements.lock pins "
        f"{locked_version('babel')}: run `make install`")


def test_committed_mo_is_the_compiled_po() -> None:
    with open(PO, "rb") as fh:
        catalogue = read_po(fh, locale="en")
    buf = io.BytesIO()
    write_mo(buf, catalogue)
    assert MO.exists() and MO.read_bytes() == buf.getvalue(), (
        f"{MO.relative_to(WEB.parent)} is not {PO.name} as Babel {babel.__version__} compiles "
        "it: run `make messages` and commit the .mo")
