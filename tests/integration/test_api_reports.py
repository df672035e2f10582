"""Reports, reference statistics and re-evaluation through the API (the same services)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import factories
from tests.integration.test_api_errors import problem_of
from workflow.services import assessment, clock


@pytest.fixture
def october_2006() -> Any:
    clock.freeze(datetime(2006, 10, 20, 2, tzinfo=UTC))
    yield
    clock.freeze(None)


def test_a_base_files_a_quarter_as_json_and_sees_its_revisions(
        api: Any, world: factories.World, october_2006: Any) -> None:
    app_id = factories.approved(world)
    me = api.as_("hubei_applicant")
    assert app_id in [b["application_id"] for b in me.get("/api/v1/bases").get_json()]
    quarter = {"year": 2006, "quarter": 3, "exports_10k_usd": "52000",
               "hightech_exports_10k_usd": "31000", "enterprise_count": 120}
    url = f"/api/v1/applications/{app_id}/quarterly-reports"
    assert me.post(url, json=quarter).get_json() == {"year": 2006, "quarter": 3, "revision": 1}
    r = me.post(url, json={**quarter, "exports_10k_usd": "53000"})
    assert r.status_code == 201 and r.get_json()["revision"] == 2
    [current] = me.get(url).get_json()
    assert current["exports_10k_usd"] == "53000.0000" and current["revision"] == 2
    bad = me.post(url, json={**quarter, "quarter": 5})
    assert problem_of(bad, 422, "validation_error")["errors"][0]["field"] == "quarter"
    problem_of(api.as_("hunan_applicant").get(url), 404, "not_found")
    tpl = me.get(f"/api/v1/quarterly-template?application_id={app_id}")
    assert tpl.status_code == 200 and tpl.data.startswith(b"PK")
    # the filled-in template goes back in through the Excel upload
    up = me.post(f"{url}/excel", data={"file": (io.BytesIO(tpl.data), "q.xlsx")},
                 content_type="multipart/form-data")
    assert up.status_code == 201, up.get_data(as_text=True)
    assert up.get_json() == [{"year": 2006, "quarter": 3, "revision": 3}]


def test_only_the_ministry_enters_reference_statistics(
        api: Any, world: factories.World, october_2006: Any) -> None:
    body = {"national_hightech_growth_pct": "29.5", "region_export_growth_pct": {"west": "20"}}
    problem_of(api.as_("hubei_reviewer").put("/api/v1/reference-statistics/2006", json=body),
               403, "forbidden")
    assert api.as_("mofcom").put("/api/v1/reference-statistics/2006",
                                 json=body).status_code == 204
    years = api.as_("hubei_reviewer").get("/api/v1/reference-statistics").get_json()
    assert years[0]["year"] == 2006 and years[0]["national_hightech_growth_pct"] == "29.50"


@pytest.fixture
def february_2007() -> Any:
    clock.freeze(datetime(2007, 2, 1, 2, tzinfo=UTC))
    yield
    clock.freeze(None)


def test_the_ministry_queues_a_re_evaluation_and_follows_it_to_its_proposals(
        api: Any, world: factories.World, february_2007: Any, published_tasks: Any) -> None:
    app_id = factories.approved(world)
    ministry = api.as_("mofcom")
    r = ministry.post("/api/v1/evaluation-runs", json={"period": 2006})
    assert r.status_code == 202, r.get_data(as_text=True)
    run = r.get_json()
    assert run["status"] == "queued" and run["period"] == 2006 and not run["dry_run"]
    assert r.headers["Location"] == f"/api/v1/evaluation-runs/{run['id']}"
    # queued for the worker, as the page queues it, and not done inside the request
    assert ("tasks.assessment.execute", [run["id"]]) in published_tasks
    assert ministry.get("/api/v1/evaluations?period=2006").get_json() == []
    assert ministry.get(r.headers["Location"]).get_json()["status"] == "queued"
    assessment.execute(world.uow(), run["id"])  # what the worker does with the queued task
    done = ministry.get(r.headers["Location"]).get_json()
    assert done["status"] == "finished" and done["summary"]["bases"] == 1
    [proposal] = ministry.get("/api/v1/evaluations?period=2006").get_json()
    assert proposal["application_id"] == app_id
    assert ministry.get("/api/v1/evaluation-runs").get_json()[0]["id"] == run["id"]


def test_a_city_bureau_s_base_is_seen_by_its_city_its_province_and_the_ministry_alone(
        api: Any, world: factories.World, february_2007: Any, published_tasks: Any) -> None:
    """Its evaluations, quarters and annual reports follow one rule: the city's bureau
    (any of its accounts), Hubei's reviewers and the ministry see them; another city of
    Hubei, a provincial applicant who did not draft it and another province are told
    the base does not exist."""
    app_id = factories.approved(world, "wuhan_applicant")
    ministry = api.as_("mofcom")
    run = ministry.post("/api/v1/evaluation-runs", json={"period": 2006}).get_json()
    assessment.execute(world.uow(), run["id"])
    base = f"/api/v1/applications/{app_id}"
    for user in ("wuhan_applicant", "wuhan_applicant2", "hubei_reviewer", "mofcom"):
        me = api.as_(user)
        [evaluation] = me.get(f"{base}/evaluations").get_json()
        assert evaluation["period"] == 2006, user
        for reports in ("quarterly-reports", "annual-reports"):
            assert me.get(f"{base}/{reports}").status_code == 200, (user, reports)
    for user in ("xiangyang_applicant", "hubei_applicant", "hunan_reviewer"):
        for reports in ("evaluations", "quarterly-reports", "annual-reports"):
            problem_of(api.as_(user).get(f"{base}/{reports}"), 404, "not_found")


def test_a_run_is_the_ministrys_to_read_and_a_wrong_year_is_refused_by_name(
        api: Any, world: factories.World, february_2007: Any, published_tasks: Any) -> None:
    ministry = api.as_("mofcom")
    run_id = ministry.post("/api/v1/evaluation-runs", json={"period": 2006}).get_json()["id"]
    problem_of(api.as_("hubei_reviewer").get(f"/api/v1/evaluation-runs/{run_id}"),
               403, "forbidden")
    problem_of(ministry.get(f"/api/v1/evaluation-runs/{run_id + 1}"), 404, "not_found")
    bad = ministry.post("/api/v1/evaluation-runs", json={"period": 2005})
    assert problem_of(bad, 422, "validation_error")["errors"][0]["field"] == "period"
    # the year still running is refused: its data are not all in (nothing queued)
    problem_of(ministry.post("/api/v1/evaluation-runs", json={"period": 2007}), 422,
               "validation_error")
    assert [name for name, _ in published_tasks] == ["tasks.assessment.execute"]
    assert len(ministry.get("/api/v1/evaluation-runs").get_json()) == 1


def test_the_ministry_dry_runs_a_re_evaluation_without_storing_anything(
        api: Any, world: factories.World, october_2006: Any) -> None:
    app_id = factories.approved(world)
    ministry = api.as_("mofcom")
    r = ministry.post("/api/v1/evaluation-runs", json={"period": 2006, "dry_run": True})
    assert r.status_code == 201, r.get_data(as_text=True)
    out = r.get_json()
    assert out["counts"]["bases"] == 1 and out["items"][0]["application_id"] == app_id
    assert ministry.get("/api/v1/evaluations?period=2006").get_json() == []
    problem_of(api.as_("hubei_reviewer").post("/api/v1/evaluation-runs",
                                              json={"period": 2006}), 403, "forbidden")


def test_an_enterprise_figure_its_programme_does_not_ask_for_is_refused_by_name(
        api: Any, world: factories.World, october_2006: Any) -> None:
    app_id = factories.approved(world)
    url = f"/api/v1/applications/{app_id}/quarterly-reports"
    r = api.as_("hubei_applicant").post(url, json={
        "year": 2006, "quarter": 3, "exports_10k_usd": "52000",
        "hightech_exports_10k_usd": "31000",
        "enterprises": [{"name": "烽火通信", "exports_10k_usd": "8000",
                         "hightech_exports_10k_usd": "7000", "rd_spending_10k_usd": "650"}]})
    errors = problem_of(r, 422, "validation_error")["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("unknown_field", "enterprises[0].rd_spending_10k_usd")]
    assert api.as_("hubei_applicant").get(url).get_json() == []  # nothing is kept
