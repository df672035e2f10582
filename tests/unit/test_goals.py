"""The programme's goals come from its definition file (`[goals]`): 002 §五(二) about 15
new bases in 2006, §一 100 bases by 2010 with a straight-line path year by year, §一 the
~70 % share. A malformed `[goals]` is refused with the key named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workflow.errors import DefinitionError
from workflow.goals import Goals, parse_goals, path
from workflow.programme import programme

NOTICE = Goals(bases=100, bases_by=2010, path_from=2006, share_pct=Decimal(70),
               new_bases={2006: 15})


def test_notice_002s_goals_are_read_from_its_programme_file() -> None:
    goals = programme().goals
    assert goals is not None
    assert (goals.bases, goals.bases_by, goals.share_pct) == (100, 2010, Decimal(70))  # §一
    assert goals.new_bases == {2006: 15}  # 002 §五(二) 十五个左右


def test_guangdongs_own_programme_sets_no_national_goals() -> None:
    assert programme("guangdong-2006-59").goals is None


def test_the_path_runs_straight_from_the_bases_of_2006_to_100_in_2010() -> None:
    # 20 bases by the end of 2006 (14 of them new): 80 to go over four years, 20 a year
    years = path(NOTICE, {2006: 20}, {2006: 14}, this_year=2007)
    assert [(g.year, g.target) for g in years] == [
        (2006, 20), (2007, 40), (2008, 60), (2009, 80), (2010, 100)]
    assert [g.actual for g in years] == [20, 20, None, None, None]  # 2007 round: none yet
    assert (years[0].new_target, years[0].new_actual) == (15, 14)


def test_before_2006_the_path_starts_from_the_15_new_bases_aimed_at() -> None:
    years = path(NOTICE, {}, {}, this_year=2005)
    assert years[0].target == 15 and years[-1].target == 100
    assert all(g.actual is None for g in years)


def test_a_year_step_rounds_up_so_the_path_never_lags_the_line() -> None:
    years = path(NOTICE, {2006: 2}, {2006: 2}, this_year=2010)
    assert [g.target for g in years] == [2, 27, 51, 76, 100]
    assert [g.actual for g in years] == [2, 2, 2, 2, 2]  # carried forward: none since


@pytest.mark.parametrize(("raw", "key"), [
    ({"bases_by": 2010, "path_from": 2006, "share_pct": 70}, "goals.bases"),
    ({"bases": "100", "bases_by": 2010, "path_from": 2006, "share_pct": 70}, "goals.bases"),
    ({"bases": 100, "bases_by": 2010, "path_from": 2011, "share_pct": 70}, "goals.path_from"),
    ({"bases": 100, "bases_by": 2010, "path_from": 2006, "share_pct": 170}, "goals.share_pct"),
    ({"bases": 100, "bases_by": 2010, "path_from": 2006, "share_pct": 70,
      "new_bases": {"2006": -1}}, "goals.new_bases.2006"),
    ({"bases": 100, "bases_by": 2010, "path_from": 2006, "share_pct": 70, "target": 1},
     "goals.target"),
    # a count alone still needs its year; a share given is still a percentage; the yearly
    # new bases are on a path, which needs its first year
    ({"bases": 50}, "goals.bases_by"),
    ({"bases": 50, "bases_by": "2002"}, "goals.bases_by"),
    ({"bases": 50, "bases_by": 2002, "share_pct": "most"}, "goals.share_pct"),
    ({"bases": 50, "bases_by": 2002, "new_bases": {"2001": 20}}, "goals.new_bases"),
])
def test_a_malformed_goal_is_refused_naming_its_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(DefinitionError, match=f"x.toml: {key}:"):
        parse_goals("x.toml", raw)


def test_a_count_alone_is_a_goal_with_no_share_and_no_yearly_path() -> None:
    # seed 003 二(二) 2: 着力扶持50家…工程技术研究开发中心 — tests/programmes/guangdong-2000-65.toml
    goals = parse_goals("x.toml", {"bases": 50, "bases_by": 2002, "source": "003 二(二) 2"})
    assert goals == Goals(bases=50, bases_by=2002, source="003 二(二) 2")
    assert (goals.share_pct, goals.path_from) == (None, None)
    assert path(goals, {2001: 3}, {2001: 3}, this_year=2001) == []
