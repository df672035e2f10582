"""What an official writing a new programme file (docs/programmes.md) gets wrong is refused
when the file is loaded, naming the file, the key and what to write instead — never taken
silently, never a crash without the file's name. The file is the one written by following the
docs (tests/programmes/guangdong-2000-65.toml, seed 003); `flask programmes check` says the
same before the file is put under programmes/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.definitions import TEST_PROGRAMMES, definition, refused
from web.programmes_cli import check
from workflow.errors import DefinitionError
from workflow.programme import load, named_as_file, programme, same_words

CODE = "guangdong-2000-65"
FILE = TEST_PROGRAMMES / f"{CODE}.toml"
Edit = Callable[[dict[str, Any]], Any]


def field(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in data["form"]["fields"] if f["name"] == name)


def transition(data: dict[str, Any], trigger: str) -> dict[str, Any]:
    return next(t for t in data["transitions"] if t["trigger"] == trigger)


def criterion(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in data["criteria"] if c["key"] == key)


def test_the_file_written_from_the_docs_is_accepted_as_it_is() -> None:
    p = load(FILE)
    assert (p.code, p.owner.value, p.authority, p.initial) == (
        CODE, "provincial_reviewer", "440000", "drafted")
    assert [c.source for c in p.criteria] == ["003 二(二) 2", "003 二(一)", "003 二(二) 1 其目标",
                                              "003 四 组织和管理"]


@pytest.mark.parametrize(("edit", "message"), [
    # a table or a setting misspelt would be lost: the criteria, the province of the list
    (lambda d: d.update(criterion=d.pop("criteria")),
     "criterion: is not a table of a programme file (one of assessment, attachments, criteria,"),
    (lambda d: d["programme"].update(authorty=d["programme"].pop("authority")),
     "programme.authorty: is not a setting of [programme] (one of authority, citation_en,"),
    (lambda d: d["programme"].update(owner="province"),
     "programme.owner: 'province' is not a role that plans, opens and closes rounds (one of "
     "applicant, provincial_reviewer, ministry_reviewer)"),
    (lambda d: field(d, "products_in_production").update(requred=False),
     "form.fields[8] (products_in_production).requred: is not a field setting (one of default,"),
    (lambda d: field(d, "products_in_production").update(required="false"),
     "form.fields[8] (products_in_production).required: must be true or false"),
    (lambda d: field(d, "rd_staff").pop("section"),
     "form.fields[7] (rd_staff).section: missing: each field names its section (one of centre, "
     "enterprise, exports)"),
    (lambda d: field(d, "enterprise_type").update(options=[{"value": "group", "zh": "企业集团"}]),
     "form.fields[1] (enterprise_type).options[0].en: must be non-empty text"),
    (lambda d: field(d, "enterprise_type").update(options=["工业大企业", "企业集团"]),
     "form.fields[1] (enterprise_type).options[0]: must be { value = …, zh = …, en = … }"),
    (lambda d: field(d, "centre_name").update(max_len="long"),
     "form.fields[6] (centre_name).max_len: must be a whole number of characters ≥ 1"),
    (lambda d: field(d, "rd_staff").update(kinds="rd_centre"),
     "form.fields[7] (rd_staff).kinds: must be a list of kinds, e.g. [\"rd_centre\"]"),
    (lambda d: d["form"]["kinds"][0].update(names_bases=True),
     "form.kinds[0].names_bases: is not a kind setting (one of en, industry_field, key,"),
    (lambda d: d["form"]["sections"][2].update(hint="上一年度"),
     "form.sections[2].hint: is not a section setting (one of en, hint_en, hint_zh, key, zh)"),
    (lambda d: d["form"]["checks"][0].update(zh_en="…"),
     "form.checks[0].zh_en: is not a check setting (one of check, column, en, factor, field,"),
    # a criterion that could never judge what it says
    (lambda d: criterion(d, "own_ip").update(sources="003"),
     "criteria[2] (own_ip).sources: is not a criterion setting (one of allowed, en, field,"),
    (lambda d: d["criteria"].append({"key": "staff", "kind": "at_least", "field": "centre_name",
                                     "minimum": 50, "zh": "…", "en": "…", "source": "003"}),
     "criteria[4] (staff).field: at_least judges a field of type int or money or pct; "
     "'centre_name' is of type text"),
    (lambda d: criterion(d, "key_enterprise").update(field="enterprise_type"),
     "criteria[0] (key_enterprise).field: is_true judges a field of type bool; "
     "'enterprise_type' is of type choice"),
    (lambda d: criterion(d, "field_supported").update(allowed=["电子信息"]),
     "criteria[1] (field_supported).allowed: '电子信息' is not an option of 'industry' (one of "
     "electronic_information, biotech_pharma,"),
    # where a case starts and how the applicant sends it on
    (lambda d: (d["states"].update(draft=d["states"].pop("drafted")),
                d["programme"].update(initial="draft"),
                [t.update(**{"from": ["draft" if s == "drafted" else s for s in t["from"]]})
                 for t in d["transitions"]],
                transition(d, "return_for_revision").update(to="draft"),
                [a.update(states=["draft"]) for a in d["attachments"]],
                [r.update(states=["draft"]) for r in d["reminders"] if r["states"] == ["drafted"]]),
     "programme.initial: must be 'drafted': a new application starts in the state 'drafted', "
     "the one the draft's page edits"),
    (lambda d: d["states"]["drafted"].pop("editable"),
     "states.drafted.editable: must be true: the applicant fills the form in while the case is "
     "a draft"),
    (lambda d: (transition(d, "submit").update(trigger="send_to_province"),
                [a.update(required_for=["send_to_province"]) for a in d["attachments"]
                 if a.get("required_for")]),
     "transitions: no transition 'submit' takes the applicant's draft on: the draft's page "
     "submits with the trigger 'submit' (from 'drafted', roles including 'applicant')"),
    (lambda d: transition(d, "submit").update(effects=[]),
     "transitions (submit).effects: must include 'record_submission': a province sees a case "
     "only once it has been submitted"),
])
def test_a_mistake_in_a_new_file_is_refused_naming_the_key_and_what_to_write(
        edit: Edit, message: str) -> None:
    data = definition(CODE)
    edit(data)
    assert refused(data).startswith("broken.toml: " + message), refused(data)


def test_a_file_whose_code_is_not_its_name_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "rd-centres.toml"
    copy.write_text(FILE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        named_as_file(load(copy), copy)
    assert str(err.value) == ("rd-centres.toml: programme.code: 'guangdong-2000-65' is not the "
                              "file's name: name the file guangdong-2000-65.toml (rounds find a "
                              "programme's file by its code)")


def test_a_kind_shared_with_another_programme_is_worded_alike(tmp_path: Path) -> None:
    # Guangdong's other list asks for the city bureau's letter too: the same key, same words
    mine = load(FILE)
    same_words([programme(), programme("guangdong-2006-59"), mine])
    text = FILE.read_text(encoding="utf-8").replace('zh = "城市商务局推荐函"',
                                                    'zh = "地级以上市推荐函"')
    other = load(_written(tmp_path, text))
    with pytest.raises(DefinitionError) as err:
        same_words([programme(), programme("guangdong-2006-59"), other])
    assert str(err.value) == (
        "guangdong-2000-65.toml: attachments[1] (city_recommendation_letter): guangdong-2006-59 "
        "words the attachment kind 'city_recommendation_letter' “城市商务局推荐函” / “City "
        "bureau's recommendation letter”: one key is labelled alike everywhere — use the same "
        "zh and en, or another key")


def _written(folder: Path, text: str) -> Path:
    path = folder / f"{CODE}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_check_command_says_ok_or_names_the_mistake_and_fails(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(check, [str(FILE)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("ok       guangdong-2000-65.toml: 广东省企业工程技术研究开发中心 / "
                                "Guangdong enterprise engineering R&D centres — 6 states, 6 "
                                "transitions, 12 form fields, 4 criteria")
    broken = _written(tmp_path, FILE.read_text(encoding="utf-8").replace(
        '"scope", "complete_form", "required_attachments"',
        '"scope", "complete_from", "required_attachments"'))
    out = runner.invoke(check, [str(FILE), str(broken)])
    assert out.exit_code == 1
    assert out.output.splitlines()[1].startswith(
        "refused  guangdong-2000-65.toml: transitions (submit).guards: unknown guard "
        "'complete_from' (one of ")
    # with no file named: the programmes the engine runs
    shipped = runner.invoke(check, [])
    assert shipped.exit_code == 0
    assert [line.split()[1] for line in shipped.output.splitlines()] == [
        "guangdong-2006-59.toml:", "mofcom-2006-6.toml:"]
