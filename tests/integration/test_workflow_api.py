"""The workflow over /api/v1: tokens, drafts, transitions, eligibility, history, errors."""

from __future__ import annotations

from typing import Any

from tests import factories
from workflow.services import clock


def _create(api: Any, **over: Any) -> dict[str, Any]:
    r = api.as_("hubei_applicant").post("/api/v1/applications",
                                        json={**factories.form_data(), **over})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_draft_created_over_the_api_lists_what_its_owner_may_do(api: Any) -> None:
    body = _create(api)
    assert body["state"] == "drafted" and body["version"] == 1
    assert body["authority"] == "420000" and body["region"] == "central"
    assert body["hightech_exports_100m_usd"] == "8.6000"
    assert body["products"] == [{"name": "光通信设备", "exports_10k_usd": "3000.0000"}]
    assert body["available_triggers"] == ["withdraw"]  # attachments still missing


def test_bad_figures_come_back_as_problem_json_naming_the_field(api: Any) -> None:
    r = api.as_("hubei_applicant").post("/api/v1/applications",
                                        json=factories.form_data(export_growth_pct="20000"))
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["field"] == "export_growth_pct"
    assert body["errors"][0]["code"] == "pct_out_of_range"
    assert api.as_("hubei_applicant").get("/api/v1/applications").get_json()["total"] == 0


def test_transitions_answer_200_409_and_422_naming_the_guard(api: Any, world: Any) -> None:
    app_id = factories.submitted(world)
    reviewer = api.as_("hubei_reviewer")
    case = reviewer.get(f"/api/v1/applications/{app_id}").get_json()
    assert case["available_triggers"] == ["return_for_revision", "decline"]

    r = reviewer.post(f"/api/v1/applications/{app_id}/transitions",
                      json={"trigger": "recommend", "version": case["version"]})
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["guard"] == "required_attachments"

    r = reviewer.post(f"/api/v1/applications/{app_id}/transitions",
                      json={"trigger": "return_for_revision", "version": case["version"]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "reason_required"

    r = reviewer.post(f"/api/v1/applications/{app_id}/transitions",
                      json={"trigger": "return_for_revision", "version": case["version"],
                            "reason": "请补充发展方案中的出口目标"})
    assert r.status_code == 200
    assert r.get_json() == {"id": app_id, "trigger": "return_for_revision",
                            "from_state": "provincially_reviewed", "state": "drafted",
                            "version": case["version"] + 1}

    r = reviewer.post(f"/api/v1/applications/{app_id}/transitions",
                      json={"trigger": "decline", "version": case["version"], "reason": "x"})
    assert r.status_code == 409 and r.get_json()["code"] == "version_conflict"

    history = api.as_("hubei_applicant").get(f"/api/v1/applications/{app_id}/history").get_json()
    assert [h["trigger"] for h in history] == ["submit", "return_for_revision"]
    assert history[-1]["reason"] == "请补充发展方案中的出口目标"


def test_an_unknown_trigger_is_a_stable_code(api: Any, world: Any) -> None:
    app_id = factories.submitted(world)
    r = api.as_("hubei_reviewer").post(f"/api/v1/applications/{app_id}/transitions",
                                       json={"trigger": "fast_track", "version": 2})
    assert r.status_code == 422
    assert r.get_json()["code"] == "invalid_trigger"
    assert r.get_json()["errors"][0]["code"] == "unknown_trigger"


def test_a_quota_refusal_has_its_own_code(api: Any, world: Any) -> None:
    app_id = factories.submitted(world, "guangdong_applicant")
    factories.files.attach(world.uow(), world.id("guangdong_reviewer"), app_id,
                           "recommendation_letter", "l.pdf", factories.PDF, world.upload_dir,
                           10**7)
    r = api.as_("guangdong_reviewer").post(f"/api/v1/applications/{app_id}/transitions",
                                           json={"trigger": "recommend", "version": 2})
    assert r.status_code == 422 and r.get_json()["code"] == "quota_exceeded"


def test_another_provinces_case_is_404_over_the_api(api: Any, world: Any) -> None:
    hunan = factories.submitted(world, "hunan_applicant")
    r = api.as_("hubei_reviewer").get(f"/api/v1/applications/{hunan}")
    assert r.status_code == 404 and r.get_json()["code"] == "not_found"
    assert "湖南" not in r.get_data(as_text=True)
    r = api.as_("hubei_reviewer").post(f"/api/v1/applications/{hunan}/transitions",
                                       json={"trigger": "decline", "version": 2, "reason": "x"})
    assert r.status_code == 404


def test_eligibility_lists_each_criterion_with_figures_and_source(api: Any, world: Any) -> None:
    app_id = factories.submitted(world, hightech_exports_100m_usd="0.4999")
    verdicts = api.as_("hubei_reviewer").get(
        f"/api/v1/applications/{app_id}/eligibility").get_json()
    threshold = next(v for v in verdicts if v["criterion"] == "hightech_exports_threshold")
    assert threshold["outcome"] == "fail"
    assert threshold["source"] == "002 §六(二)(2)"
    assert threshold["figures"]["threshold_musd"] == "50"
    assert threshold["figures"]["hightech_exports_musd"] == "49.99"


def test_approval_over_the_api_after_the_notice(api: Any, world: Any) -> None:
    from datetime import UTC, datetime

    app_id = factories.published(world)
    clock.freeze(datetime(2006, 5, 11, 1, tzinfo=UTC))  # 9:00 in Beijing, day after the notice
    try:
        minister = api.as_("mofcom2")
        case = minister.get(f"/api/v1/applications/{app_id}").get_json()
        assert "approve" in case["available_triggers"]
        r = minister.post(f"/api/v1/applications/{app_id}/transitions",
                          json={"trigger": "approve", "version": case["version"]})
        assert r.status_code == 200 and r.get_json()["state"] == "approved"
    finally:
        clock.freeze(None)


def test_without_a_token_the_api_answers_401_problem_json(client: Any) -> None:
    r = client.get("/api/v1/applications")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"


def test_the_openapi_document_describes_the_transitions_endpoint(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert "/api/v1/applications/{app_id}/transitions" in spec["paths"]
