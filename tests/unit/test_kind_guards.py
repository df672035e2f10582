"""Which kinds of application the guards `quota` and `existing_base` apply to is the
programme file's word (`uses_quota`, `names_base` in `[[form.kinds]]`), never a kind's
key: notice 002's file marks its new base and its re-certification (002 §六(三), §五(一));
a province's own file marks its own kinds, or none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.definitions import TEST_PROGRAMMES, definition, refused
from tests.unit.test_guards import GUANGZHOU, HUBEI, case, ctx
from workflow import guards
from workflow.errors import DefinitionError
from workflow.model import Case
from workflow.programme import PROGRAMMES_DIR, Programme, digest, frozen, load
from workflow.regions import Region
from workflow.roles import Actor, Role
from workflow.rules import RoundRules
from workflow.states import State

RD_CENTRES = (TEST_PROGRAMMES / "guangdong-2000-65.toml").read_text(encoding="utf-8")
KIND = 'en = "Enterprise engineering R&D centre"\n'
LISTING = 'guards = ["scope", "not_the_drafter", "failed_criteria"]'
WITH_QUOTA = 'guards = ["scope", "not_the_drafter", "failed_criteria", "quota"]'
GUANGDONG = Actor(22, Role.PROVINCIAL_REVIEWER, "440000", "广东审核")
TWO_A_ROUND = RoundRules(quota_overrides={"440000": 2})


def _loaded(folder: Path, text: str) -> Programme:
    path = folder / "guangdong-2000-65.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def _refused(folder: Path, text: str) -> str:
    with pytest.raises(DefinitionError) as err:
        _loaded(folder, text)
    return str(err.value)


def _centre(p: Programme, kind: str = "rd_centre") -> Case:
    return case(kind=kind, authority_code="440100", parent_code="440000", region=Region.EAST,
                parent_region=Region.EAST, programme=p)


# --- the loader ------------------------------------------------------------------------

def test_a_kinds_quota_setting_must_be_true_or_false() -> None:
    data = definition()
    data["form"]["kinds"][0]["uses_quota"] = "yes"
    assert refused(data) == "broken.toml: form.kinds[0].uses_quota: must be true or false"


def test_a_step_running_the_quota_while_no_kind_uses_one_is_refused(tmp_path: Path) -> None:
    assert _refused(tmp_path, RD_CENTRES.replace(LISTING, WITH_QUOTA)) == (
        "guangdong-2000-65.toml: transitions (list_centre).guards: the guard 'quota' applies "
        "to no kind: mark the kinds it applies to `uses_quota = true` in their [[form.kinds]] "
        "table")


def test_a_kind_using_a_quota_no_step_counts_is_refused(tmp_path: Path) -> None:
    assert _refused(tmp_path, RD_CENTRES.replace(KIND, KIND + "uses_quota = true\n")) == (
        "guangdong-2000-65.toml: form.kinds[0] (rd_centre).uses_quota: no transition runs the "
        "guard 'quota' (add it to the step that recommends, or leave the setting out)")


def test_a_step_checking_a_named_base_while_no_kind_names_one_is_refused(
        tmp_path: Path) -> None:
    text = RD_CENTRES.replace(LISTING, LISTING.replace('"scope", ', '"scope", "existing_base", '))
    assert _refused(tmp_path, text) == (
        "guangdong-2000-65.toml: transitions (list_centre).guards: the guard 'existing_base' "
        "applies to no kind: mark the kinds it applies to `names_base = true` in their "
        "[[form.kinds]] table")


def test_notice_002s_file_says_which_kinds_take_a_quota_and_name_a_base() -> None:
    p = load(PROGRAMMES_DIR / "mofcom-2006-6.toml")
    assert p.form.kinds_where("uses_quota") == ("new_base",)
    assert p.form.kinds_where("names_base") == ("recertification",)


# --- the guards ---------------------------------------------------------------------------

def test_a_province_kind_marked_as_using_a_quota_is_refused_over_it(tmp_path: Path) -> None:
    marked = _loaded(tmp_path, RD_CENTRES.replace(KIND, KIND + "uses_quota = true\n")
                     .replace(LISTING, WITH_QUOTA))
    spec = marked.by_trigger["list_centre"]
    centre = _centre(marked)
    assert guards.quota(centre, ctx(GUANGDONG, quota_used=1, rules=TWO_A_ROUND), spec) is None
    refusal = guards.quota(centre, ctx(GUANGDONG, quota_used=2, rules=TWO_A_ROUND), spec)
    assert refusal is not None and refusal.code == "quota_exceeded"
    assert refusal.details == {"quota": 2, "used": 2}


def test_a_province_kind_its_file_does_not_mark_takes_no_quota(tmp_path: Path) -> None:
    # the province's second kind keeps 002's key `new_base` but its file does not mark it:
    # the key decides nothing
    second = ('\n[[form.kinds]]\nkey = "new_base"\nzh = "新基地"\nen = "New base"\n')
    marked = _loaded(tmp_path, RD_CENTRES.replace(KIND, KIND + "uses_quota = true\n" + second)
                     .replace(LISTING, WITH_QUOTA))
    spec = marked.by_trigger["list_centre"]
    full = ctx(GUANGDONG, quota_used=2, rules=TWO_A_ROUND)
    assert guards.quota(_centre(marked, "new_base"), full, spec) is None
    assert guards.quota(_centre(marked), full, spec) is not None


def test_a_province_kind_that_names_no_base_is_not_asked_for_one(tmp_path: Path) -> None:
    p = _loaded(tmp_path, RD_CENTRES)
    assert guards.existing_base(_centre(p), ctx(GUANGDONG), p.by_trigger["list_centre"]) is None


def test_notice_002s_re_certification_takes_no_quota_and_names_its_base() -> None:
    recert = case(State.PROVINCIALLY_REVIEWED, kind="recertification", authority_code="440000",
                  region=Region.EAST, existing_base=None)
    spec = recert.programme.by_trigger["recommend"]
    assert guards.quota(recert, ctx(GUANGDONG, quota_used=5), spec) is None
    refusal = guards.existing_base(recert, ctx(GUANGDONG), spec)
    assert refusal is not None and refusal.code == "existing_base_required"
    named = case(State.PROVINCIALLY_REVIEWED, kind="recertification", authority_code="440000",
                 region=Region.EAST, existing_base=GUANGZHOU)
    assert guards.existing_base(named, ctx(GUANGDONG), spec) is None


def test_a_round_opened_before_kinds_said_so_still_counts_002s_new_bases_quota() -> None:
    source = (PROGRAMMES_DIR / "mofcom-2006-6.toml").read_text(encoding="utf-8")
    line = "uses_quota = true  # 002 §六(三): a province recommends new bases within its quota\n"
    older = source.replace(line, "")
    assert older != source
    p = frozen(digest(older), older)
    assert p.form.kinds_where("uses_quota") == ("new_base",)
    new_base = case(State.PROVINCIALLY_REVIEWED, programme=p)
    refusal = guards.quota(new_base, ctx(HUBEI, quota_used=1), p.by_trigger["recommend"])
    assert refusal is not None and refusal.code == "quota_exceeded"
