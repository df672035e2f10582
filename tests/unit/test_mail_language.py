"""Mail speaks the recipient's language through the web UI's own Babel catalogue."""

from __future__ import annotations

from babel.support import Translations

from workflow.services import language


def test_an_english_recipient_reads_the_catalogues_english() -> None:
    catalogue = Translations.load(language.TRANSLATIONS, ["en"])
    assert language.translate("事项：%(what)s", "en", what="Q1 data") == \
        catalogue.gettext("事项：%(what)s") % {"what": "Q1 data"} == "Matter: Q1 data"


def test_chinese_and_unknown_languages_read_the_chinese_original() -> None:
    assert language.translate("事项：%(what)s", "zh", what="季度数据") == "事项：季度数据"
    assert language.translate("事项：%(what)s", "fr", what="季度数据") == "事项：季度数据"
