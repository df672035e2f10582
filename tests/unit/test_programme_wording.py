"""What a programme's public notice says, the rule its list of papers cites and the heading
of its quarterly template are its definition file's ([notice], [quarterly], `papers_zh`):
a programme without a public notice or quarterly data (Guangdong's) has none of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.definitions import definition, refused
from workflow.programme import PROGRAMMES_DIR, DefinitionError, load, programme

GUANGDONG = "guangdong-2006-59"




def test_notice_002_words_its_notice_papers_and_quarterly_template_in_its_file() -> None:
    p = programme()
    assert p.notice is not None and p.notice.title("zh") == "科技兴贸出口创新基地网上公示"
    assert p.notice.lead("zh").startswith("根据商技发〔2006〕6号，商务部在核准前")
    assert p.notice.lead("en").startswith("Under MOFCOM notice [2006] No. 6")
    assert p.papers_zh == "依据商技发〔2006〕6号 第六条第三款"
    assert p.quarterly is not None and "四(四)" in p.quarterly.heading_zh


def test_guangdongs_programme_has_no_public_notice_no_quarterly_data_and_cites_no_papers() -> None:
    p = programme(GUANGDONG)
    assert (p.notice, p.quarterly, p.papers_zh, p.papers_en) == (None, None, "", "")


def test_a_notice_for_a_programme_whose_cases_are_never_on_one_is_refused() -> None:
    data = definition(GUANGDONG)
    data["notice"] = definition()["notice"]
    assert refused(data) == ("broken.toml: notice: no state has public_notice = true (the "
                             "notice would never list a case)")


def test_a_programme_with_a_public_notice_must_word_it(tmp_path: Path) -> None:
    text = (PROGRAMMES_DIR / "mofcom-2006-6.toml").read_text(encoding="utf-8")
    start = text.index("[notice]")
    quiet = tmp_path / "quiet.toml"
    quiet.write_text(text[:start] + text[text.index("# ---", start):], encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load(quiet)
    assert str(err.value) == ("quiet.toml: notice: the [notice] table is missing: "
                              "publicly_shown put cases on the public notice, which must say "
                              "what it is")


@pytest.mark.parametrize(("table", "changes", "message"), [
    ("notice", {"lead_en": ""}, "notice.lead_en: must be a non-empty text"),
    ("notice", {"footer": "x"}, "notice.footer: is not a notice setting (one of lead_en, "
     "lead_zh, title_en, title_zh)"),
    ("quarterly", {"heading_zh": 5}, "quarterly.heading_zh: must be a non-empty text"),
    ("quarterly", {"rows": []}, "quarterly.rows: is not a quarterly setting"),
    ("quarterly", {"columns": []}, "quarterly.columns: must be a list of [[quarterly.columns]]"),
])
def test_each_wrong_wording_is_named_with_its_file_and_key(
        table: str, changes: dict[str, Any], message: str) -> None:
    data = definition()
    data[table].update(changes)
    assert refused(data).startswith(f"broken.toml: {message}")


def test_quarterly_data_needs_a_designated_state() -> None:
    data = definition(GUANGDONG)
    data["quarterly"] = definition()["quarterly"]
    del data["states"]["enterprise_designated"]["designated"]
    assert refused(data) == ("broken.toml: quarterly: no state is designated (no base would "
                             "ever report)")


def test_the_papers_rule_comes_in_both_languages_or_not_at_all() -> None:
    data = definition()
    del data["programme"]["papers_en"]
    assert refused(data) == "broken.toml: programme.papers_en: must be a non-empty text"
