"""The ministry keeps each province's and city's own export growth with its source and
catalogue (page and API), and criterion (3) judges a case against its own locality's
figure, saying which one it used. 002 §六(二)(3)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import factories
from tests.integration.test_api_errors import problem_of
from workflow.services import clock

# the applicant grew 20 % a year (72.80 % over 2003–2005): below the nation's 222.09 %
# and the old central figure's 133.12 %, above Hubei's own 10 % a year (33.10 %)
SLOW = {"hightech_export_growth_pct": "20", "hightech_export_growth_pct_prev1": "20",
        "hightech_export_growth_pct_prev2": "20"}


@pytest.fixture
def in_2006() -> Any:
    clock.freeze(datetime(2006, 3, 20, 2, tzinfo=UTC))
    yield
    clock.freeze(None)


def _hubei(pct: str, catalogue: str = "national") -> list[dict[str, Any]]:
    return [{"authority": "420000", "year": y, "export_growth_pct": pct,
             "source": f"湖北省统计局《{y}年统计公报》", "catalogue": catalogue}
            for y in (2003, 2004, 2005)]


def _growth(api: Any, app_id: int) -> dict[str, Any]:
    verdicts = api.as_("hubei_reviewer").get(
        f"/api/v1/applications/{app_id}/eligibility").get_json()
    return next(v for v in verdicts if v["source"] == "002 §六(二)(3)")


def test_a_case_is_judged_against_its_provinces_own_figure_once_entered(
        api: Any, world: factories.World, in_2006: Any) -> None:
    app_id = factories.submitted(world, **SLOW)
    before = _growth(api, app_id)
    assert before["outcome"] == "fail"
    assert before["figures"]["locality"]["basis"] == "macro_region_fallback"
    saved = api.as_("mofcom").post("/api/v1/reference-statistics/localities",
                                   json={"rows": _hubei("10")})
    assert saved.status_code == 200 and saved.get_json() == {"saved": 3}
    after = _growth(api, app_id)
    assert after["outcome"] == "pass"
    assert after["figures"]["locality_export_growth_pct"] == "33.10"
    assert after["figures"]["locality"]["basis"] == "province"
    assert "湖北省统计局《2005年统计公报》" in after["zh"]
    listed = api.as_("hubei_reviewer").get("/api/v1/reference-statistics/localities").get_json()
    assert [(r["authority"], r["year"], r["export_growth_pct"]) for r in listed] == [
        ("420000", 2005, "10.00"), ("420000", 2004, "10.00"), ("420000", 2003, "10.00")]


def test_an_import_with_one_bad_row_saves_nothing_and_names_the_row_and_field(
        api: Any, world: factories.World, in_2006: Any) -> None:
    rows = _hubei("10")
    rows[1] = {**rows[1], "catalogue": "provincial"}
    rows[2] = {**rows[2], "authority": "999999"}
    bad = problem_of(api.as_("mofcom").post("/api/v1/reference-statistics/localities",
                                            json={"rows": rows}), 422, "validation_error")
    assert {e["field"] for e in bad["errors"]} == {"rows[1].catalogue", "rows[2].authority"}
    assert api.as_("mofcom").get("/api/v1/reference-statistics/localities").get_json() == []
    problem_of(api.as_("hubei_reviewer").post("/api/v1/reference-statistics/localities",
                                              json={"rows": _hubei("10")}), 403, "forbidden")


def test_the_ministry_imports_a_csv_on_the_page_and_the_case_page_shows_the_source(
        client: Any, world: factories.World, in_2006: Any) -> None:
    app_id = factories.submitted(world, **SLOW)
    factories.login(client, "mofcom")
    text = "authority,year,export_growth_pct,source,catalogue\n" + "".join(
        f"420000,{y},10,湖北省统计局{y},local\n" for y in (2003, 2004, 2005))
    r = client.post("/reports/reference", data={
        "what": "locality_csv", "csv_file": (io.BytesIO(text.encode()), "hubei.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "已保存 3 条本地区统计数据" in page
    assert 'data-authority="420000" data-year="2005"' in page and "地方高新技术产品出口目录" in page
    bad = client.post("/reports/reference", data={
        "what": "locality", "authority": "420000", "year": "2005", "export_growth_pct": "x",
        "source": "", "catalogue": "national"})
    assert bad.status_code == 303  # post/redirect/get: the page lists why, as typed
    page = client.get(bad.headers["Location"]).get_data(as_text=True)
    assert 'data-field="rows[0].source"' in page and 'value="420000"' in page
    factories.login(client, "hubei_reviewer")
    case_page = client.get(f"/cases/{app_id}").get_data(as_text=True)
    assert 'data-basis="province"' in case_page and "湖北省统计局2005" in case_page
