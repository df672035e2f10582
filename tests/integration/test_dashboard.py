"""The dashboard: counts per state, region, province and round, and progress towards the
programme goals of 002 §一 (100 bases; the bases' share of national high-tech exports vs 70%)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import literal_column, select

from tests import databases, factories
from tests.factories import login
from workflow.services import dashboard
from workflow.storage.models import ReferenceStatRow


def set_national_exports(world: factories.World, year: int, value: str) -> None:
    with world.uow() as u:
        row = u.session.scalars(select(ReferenceStatRow).where(ReferenceStatRow.year == year)).one()
        row.national_hightech_exports_100m_usd = Decimal(value)
        u.commit()


@pytest.fixture
def two_bases(world: factories.World) -> list[int]:
    """Hubei's base (8.6 亿美元) and Sichuan's (3.4 亿美元), both approved in 2006."""
    return [factories.approved(world),
            factories.approved(world, "sichuan_applicant", "sichuan_reviewer",
                               applicant_name="成都软件与信息服务出口基地",
                               hightech_exports_100m_usd="3.4")]


def test_share_of_national_exports_is_the_bases_sum_over_the_national_figure(
        world: factories.World, two_bases: list[int]) -> None:
    factories.submitted(world, "hunan_applicant", applicant_name="长沙工程机械出口创新基地",
                        hightech_exports_100m_usd="50", exports_100m_usd="60")  # not designated: no count
    set_national_exports(world, 2005, "40")
    d = dashboard.overview(world.uow(), world.id("mofcom"))
    assert d.designated == 2 and d.goal_bases == 100
    share = d.share
    assert share.data_year == 2005
    assert share.bases_100m_usd == Decimal("12.0")
    assert share.pct == Decimal("30.00")  # (8.6 + 3.4) / 40 = 30 %


def test_missing_national_figure_is_said_plainly(client: Any, world: factories.World,
                                                 two_bases: list[int]) -> None:
    login(client, "mofcom")
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="share-missing"' in html
    assert "尚未录入2005年全国高新技术产品出口额" in html
    assert "12" in html  # the bases' own sum is still shown


def test_ministry_dashboard_counts_every_state_region_and_province(
        client: Any, world: factories.World, two_bases: list[int]) -> None:
    factories.submitted(world, "hunan_applicant", applicant_name="长沙工程机械出口创新基地")
    factories.draft(world, "guangdong_applicant", applicant_name="东莞电子信息产业集群")
    set_national_exports(world, 2005, "40")
    login(client, "mofcom")
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="share-pct">30%' in html
    assert "全国" in html
    for name in ("湖北省", "四川省", "湖南省", "广东省"):
        assert name in html
    d = dashboard.overview(world.uow(), world.id("mofcom"))
    assert dict(d.by_state) == {"approved": 2, "provincially_reviewed": 1, "drafted": 1}
    regions = {r["region"]: (r["applications"], r["designated"]) for r in d.by_region}
    assert regions == {"central": (2, 1), "west": (1, 1), "east": (1, 0)}
    assert [(t.year, t.applications, t.designated_cumulative) for t in d.trends] == [(2006, 4, 2)]
    assert 'data-chart="bar"' in html and "chart.umd.min.js" in html  # charts with tables


def test_a_province_sees_only_its_own_cases(client: Any, world: factories.World,
                                            two_bases: list[int]) -> None:
    factories.submitted(world, "hunan_applicant", applicant_name="长沙工程机械出口创新基地")
    factories.draft(world, applicant_name="湖北未提交的草稿")  # not submitted: not the province's
    login(client, "hubei_reviewer")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "湖北省" in html and "湖南省" not in html and "四川省" not in html
    d = dashboard.overview(world.uow(), world.id("hubei_reviewer"))
    assert d.total == 1 and d.designated == 1 and d.scope_zh == "湖北省"


@pytest.mark.parametrize("username", ["hubei_applicant"])
def test_applicants_may_not_see_the_dashboard(client: Any, world: factories.World,
                                              username: str) -> None:
    login(client, username)
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard.xlsx").status_code == 403


def test_aggregations_run_in_the_database(world: factories.World, two_bases: list[int],
                                          db_url: str) -> None:
    """Counting is GROUP BY in SQL: no application row is loaded into Python."""
    with databases.statements_sent(db_url) as seen:
        dashboard.overview(world.uow(), world.id("mofcom"))
    counting = [s for s in seen if "FROM applications" in s]
    assert counting and all("GROUP BY" in s for s in counting)


def test_the_trend_of_more_rounds_costs_no_more_statements(world: factories.World,
                                                          two_bases: list[int],
                                                          db_url: str) -> None:
    """The bases' exports per round are one statement for every round: a dashboard of
    years of rounds sends as many statements as one of a single round (it sent one per
    round, so a view cost more every year)."""
    from sqlalchemy import insert

    from workflow.storage.models import ApplicationRow, RoundRow

    def statements() -> tuple[int, list[int]]:
        with databases.statements_sent(db_url) as seen:
            view = dashboard.overview(world.uow(), world.id("mofcom"))
        return len(seen), [t.year for t in view.trends]

    one_round, years = statements()
    assert years == [2006]
    apps = ApplicationRow.__table__
    copied = [c for c in apps.c if c.name not in ("id", "round_id")]
    with world.uow() as u:
        s = u.session
        first = s.scalars(select(RoundRow).where(RoundRow.year == 2006)).one()
        for year in (2007, 2008, 2009):  # later rounds, each designating a copy of a base
            later = RoundRow(year=year, name_zh=f"{year}年度", name_en=str(year),
                             params=first.params, opened_on=first.opened_on)
            s.add(later)
            s.flush()
            s.execute(insert(apps).from_select(
                [c.name for c in copied] + ["round_id"],
                select(*copied, literal_column(str(later.id))).where(
                    apps.c.id == two_bases[0])))
        u.commit()
    many, years = statements()
    assert years == [2006, 2007, 2008, 2009]
    assert many == one_round


def test_the_dashboard_shows_the_path_to_100_bases_year_by_year_beside_the_actual(
        client: Any, world: factories.World, two_bases: list[int]) -> None:
    # 002 §五(二): about 15 new bases in 2006; §一: 100 by 2010. Two bases by the end of
    # 2006: the line runs 2 → 27 → 51 → 76 → 100
    from datetime import UTC, datetime

    from workflow.services import clock
    clock.freeze(datetime(2007, 3, 1, 2, tzinfo=UTC))
    try:
        d = dashboard.overview(world.uow(), world.id("mofcom"))
        login(client, "mofcom")
        html = client.get("/dashboard").get_data(as_text=True)
    finally:
        clock.freeze(None)
    assert [(g.year, g.target, g.actual) for g in d.goal_path] == [
        (2006, 2, 2), (2007, 27, 2), (2008, 51, None), (2009, 76, None), (2010, 100, None)]
    assert (d.goal_path[0].new_target, d.goal_path[0].new_actual) == (15, 2)
    assert 'data-testid="goal-path"' in html
    assert '<tr data-year="2010"><td>2010</td><td class="num" data-testid="target">100</td>' in html
    assert "约 15" in html


def test_a_province_is_not_set_the_national_goal_as_its_own_path(
        client: Any, world: factories.World, two_bases: list[int]) -> None:
    # 002 §一's 100 bases are the nation's: Hubei's one base is no start of a line to 100
    login(client, "hubei_reviewer")
    html = client.get("/dashboard").get_data(as_text=True)
    d = dashboard.overview(world.uow(), world.id("hubei_reviewer"))
    assert d.goal_path == []
    assert 'data-testid="goal-path"' not in html
    assert "全国目标为 100 家" in html  # the national goal is still named as the nation's
