"""A base is re-evaluated by its own programme's rules (`[assessment]` of its definition
file), and a programme whose file has none offers no re-evaluation: its bases are left out
of every run — never assessed by notice 002's rules — and their evaluations, on the page
and through the API, say why. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests import factories
from tests.integration.test_programme_guangdong import (  # noqa: F401 (a fixture)
    ENTERPRISE,
    gd_round,
)
from tests.integration.test_programme_suspension import suspension_round  # noqa: F401 (a fixture)
from workflow.services import assessment

LATER = datetime(2008, 2, 1, 2, tzinfo=UTC)  # 2007 has closed


@pytest.mark.usefixtures("suspension_round")
def test_a_base_of_a_programme_without_assessment_rules_is_not_re_evaluated(
        api: Any, client: Any, world: factories.World) -> None:
    # tests/programmes/test-suspension.toml: notice 002's states and steps, no [assessment]
    app_id = factories.designated_in_2007(world, "test-suspension")
    base_002 = factories.approved(world, "hunan_applicant", "hunan_reviewer")
    dry = assessment.preview(world.uow(), world.id("mofcom"), 2007, now=LATER)
    assessed = {a.application_id for a, _n, _r in dry.items}
    assert base_002 in assessed and app_id not in assessed
    assert dry.counts.bases == len(assessed)

    r = api.as_("mofcom").get(f"/api/v1/applications/{app_id}/evaluations")
    assert r.status_code == 409
    [error] = r.get_json()["errors"]
    assert error["code"] == "not_re_evaluated"
    assert "programmes/test-suspension.toml" in error["message_en"]
    assert "未规定复评规则" in error["message_zh"]
    assert api.as_("mofcom").get(
        f"/api/v1/applications/{base_002}/evaluations").status_code == 200

    factories.login(client, "mofcom")
    page = client.get(f"/reports/bases/{app_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 409
    assert "不进行复评" in html and "programmes/test-suspension.toml" in html


@pytest.mark.usefixtures("suspension_round")
def test_the_re_evaluation_page_shows_each_programme_s_rules_from_its_file(
        client: Any, world: factories.World) -> None:
    factories.login(client, "mofcom")
    html = client.get("/reports/assessment").get_data(as_text=True)
    rules = html[html.index('data-testid="assessment-rules"'):html.index('data-testid="runs"')]
    assert "[assessment]" in rules and "programmes/mofcom-2006-6.toml" in rules
    mofcom = rules[rules.index('data-programme="mofcom-2006-6"'):]
    row = mofcom[mofcom.index('data-finding="characteristic_industry"'):]
    row = row[:row.index("</tr>")]
    assert "recert_min_hightech_share_pct" in row and "30" in row and "002 §六(一)(3)" in row
    assert "002 §一 动态调整" in mofcom and "撤销" in mofcom
    suspension = rules[rules.index("programmes/test-suspension.toml"):]
    assert "没有 [assessment] 部分" in suspension[:suspension.index("</p>")]


@pytest.mark.usefixtures("gd_round")
def test_a_guangdong_enterprise_is_told_its_list_has_no_re_evaluation(
        api: Any, client: Any, world: factories.World) -> None:
    # programmes/guangdong-2006-59.toml: its enterprises file no quarterly data, no rules
    city, province = api.as_("guangzhou_applicant"), api.as_("guangdong_reviewer")
    app_id = city.post("/api/v1/applications", json=ENTERPRISE).get_json()["id"]
    for kind in ("business_licence", "city_recommendation_letter"):
        assert factories.upload(city, app_id, kind).status_code == 201
    for who, trigger in ((city, "submit"), (province, "designate_enterprise")):
        version = who.get(f"/api/v1/applications/{app_id}").get_json()["version"]
        r = who.post(f"/api/v1/applications/{app_id}/transitions",
                     json={"trigger": trigger, "version": version})
        assert r.status_code == 200, r.get_json()
    r = province.get(f"/api/v1/applications/{app_id}/evaluations")
    assert r.status_code == 409
    [error] = r.get_json()["errors"]
    assert error["code"] == "not_re_evaluated"
    assert "programmes/guangdong-2006-59.toml" in error["message_zh"]
    assert "广东省机电产品出口基地企业" in error["message_zh"]

    factories.login(client, "guangdong_reviewer")
    page = client.get(f"/reports/bases/{app_id}")
    assert page.status_code == 409
    assert "不进行复评" in page.get_data(as_text=True)
