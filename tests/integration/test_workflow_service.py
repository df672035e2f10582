"""The workflow through the service layer on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests import factories
from workflow.errors import GuardFailed, InvalidTrigger, NotFound, ValidationFailed, VersionConflict
from workflow.services import cases, objections


def _snapshot(world: factories.World, app_id: int) -> tuple[str, int, int]:
    loaded = cases.load(world.uow(), world.id("mofcom"), app_id)
    return (loaded.row.state, loaded.row.version,
            len(cases.history_of(world.uow(), world.id("mofcom"), app_id)))


def test_an_application_walks_the_spine_with_a_history_row_per_step(world: Any) -> None:
    app_id = factories.approved(world)
    history = cases.history_of(world.uow(), world.id("mofcom"), app_id)
    assert [(h.from_state, h.to_state) for h in history] == [
        ("drafted", "provincially_reviewed"), ("provincially_reviewed", "recommended"),
        ("recommended", "publicly_shown"), ("publicly_shown", "approved")]
    approve = history[-1]
    assert approve.actor_id == world.id("mofcom2") and approve.actor_role == "ministry_reviewer"
    assert approve.at == datetime(2006, 5, 15, 2, tzinfo=UTC)  # stored and read back in UTC
    assert approve.version == 5
    assert {v["criterion"] for v in approve.eligibility} >= {"hightech_exports_threshold",
                                                             "three_year_growth"}
    loaded = cases.load(world.uow(), world.id("mofcom"), app_id)
    assert loaded.row.notice_published_on == date(2006, 4, 28)
    assert loaded.row.notice_ends_on == date(2006, 5, 10)


def test_approval_during_the_notice_is_refused_and_changes_nothing(world: Any) -> None:
    app_id = factories.published(world)
    before = _snapshot(world, app_id)
    with pytest.raises(GuardFailed) as err:
        cases.fire(world.uow(), world.id("mofcom2"), app_id, "approve", None,
                   now=datetime(2006, 5, 10, 9, tzinfo=UTC))  # last day of the notice
    assert err.value.first.code == "notice_not_elapsed"
    assert _snapshot(world, app_id) == before


def test_a_stale_version_is_a_conflict_and_changes_nothing(world: Any) -> None:
    app_id = factories.submitted(world)
    state, version, n = _snapshot(world, app_id)
    with pytest.raises(VersionConflict) as err:
        cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "decline", version - 1,
                   reason="过期版本")
    assert err.value.first.details == {"expected": version - 1, "current": version}
    assert _snapshot(world, app_id) == (state, version, n)


def test_a_return_without_a_reason_is_refused(world: Any) -> None:
    app_id = factories.submitted(world)
    before = _snapshot(world, app_id)
    with pytest.raises(GuardFailed) as err:
        cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "return_for_revision", None)
    assert err.value.first.code == "reason_required"
    assert _snapshot(world, app_id) == before


def test_a_trigger_from_the_wrong_state_is_named(world: Any) -> None:
    app_id = factories.draft(world)
    with pytest.raises(InvalidTrigger) as err:
        cases.fire(world.uow(), world.id("mofcom"), app_id, "approve", None)
    assert err.value.first.code == "trigger_not_allowed_in_state"


def test_another_provinces_case_does_not_exist_for_a_reviewer(world: Any) -> None:
    hunan_case = factories.submitted(world, "hunan_applicant")
    with pytest.raises(NotFound):
        cases.load(world.uow(), world.id("hubei_reviewer"), hunan_case)
    with pytest.raises(NotFound):
        cases.fire(world.uow(), world.id("hubei_reviewer"), hunan_case, "decline", None,
                   reason="越权")
    assert _snapshot(world, hunan_case)[0] == "provincially_reviewed"


def test_a_province_does_not_see_unsubmitted_drafts(world: Any) -> None:
    app_id = factories.draft(world)
    with pytest.raises(NotFound):
        cases.load(world.uow(), world.id("hubei_reviewer"), app_id)


def test_a_central_provinces_second_new_base_is_refused_by_quota(world: Any) -> None:
    factories.recommended(world, applicant_name="第一个新基地")
    second = factories.submitted(world, "hubei_applicant2", applicant_name="第二个新基地")
    factories.files.attach(world.uow(), world.id("hubei_reviewer"), second,
                           "recommendation_letter", "l.pdf", factories.PDF, world.upload_dir,
                           10**7)
    with pytest.raises(GuardFailed) as err:
        cases.fire(world.uow(), world.id("hubei_reviewer"), second, "recommend", None)
    assert err.value.code == "quota_exceeded"
    assert err.value.first.details == {"quota": 1, "used": 1}


def test_an_eastern_province_with_bases_cannot_recommend_a_new_base(world: Any) -> None:
    app_id = factories.submitted(world, "guangdong_applicant")
    factories.files.attach(world.uow(), world.id("guangdong_reviewer"), app_id,
                           "recommendation_letter", "l.pdf", factories.PDF, world.upload_dir,
                           10**7)
    with pytest.raises(GuardFailed) as err:
        cases.fire(world.uow(), world.id("guangdong_reviewer"), app_id, "recommend", None)
    assert err.value.first.code == "quota_exceeded" and err.value.first.details["quota"] == 0


def test_an_upheld_objection_ends_the_case_and_is_recorded(world: Any) -> None:
    app_id = factories.published(world)
    number = objections.file_objection(world.uow(), app_id, "陈群众", "chen@example.com",
                                       "数据重复计算", now=datetime(2006, 5, 8, 2, tzinfo=UTC))
    assert number.startswith("YY20060508")
    objection = objections.open_for(world.uow(), app_id)[0]
    with pytest.raises(GuardFailed) as err:
        cases.fire(world.uow(), world.id("mofcom2"), app_id, "approve", None,
                   now=datetime(2006, 5, 15, 2, tzinfo=UTC))
    assert err.value.first.code == "open_objection"
    objections.uphold(world.uow(), world.id("mofcom"), objection.id, "经核查属实", None,
                      now=datetime(2006, 5, 9, 2, tzinfo=UTC))
    state, _, _ = _snapshot(world, app_id)
    assert state == "objection_upheld"
    assert objections.open_for(world.uow(), app_id)[0].status == "upheld"


def test_a_deputy_acts_on_behalf_of_a_reviewer_and_history_says_so(world: Any) -> None:
    from workflow.storage.models import DeputyRow

    app_id = factories.submitted(world)
    with world.uow() as u:
        # scope comes from the principal: the deputy sees and acts on what they cover
        u.session.add(DeputyRow(principal_id=world.id("hubei_reviewer"),
                                deputy_id=world.id("hunan_reviewer"),
                                starts_on=date(2006, 4, 1), ends_on=date(2006, 4, 30)))
        u.commit()
    fired = cases.fire(world.uow(), world.id("hunan_reviewer"), app_id, "decline", None,
                       reason="代理审核", now=datetime(2006, 4, 10, 2, tzinfo=UTC))
    assert fired.to_state == "declined"
    h = cases.history_of(world.uow(), world.id("mofcom"), app_id)[-1]
    assert (h.actor_id, h.on_behalf_of_id) == (world.id("hunan_reviewer"),
                                               world.id("hubei_reviewer"))
    with pytest.raises(NotFound):  # after the date range the cover ends
        cases.load(world.uow(), world.id("hunan_reviewer"), app_id,
                   now=datetime(2006, 5, 2, 2, tzinfo=UTC))


@pytest.mark.parametrize(("field", "value", "code"), [
    ("hightech_exports_100m_usd", "-1", "negative"),
    ("hightech_exports_100m_usd", "很多", "not_a_number"),
    ("export_growth_pct", "10000.01", "pct_out_of_range"),
    ("export_growth_pct", "-100.5", "pct_out_of_range"),
    ("contact_email", "not-an-email", "invalid_email"),
    ("enterprise_count", "3.5", "not_an_integer"),
])
def test_bad_figures_are_refused_by_field_and_nothing_is_saved(
        world: Any, field: str, value: str, code: str) -> None:
    app_id = factories.draft(world)
    loaded = cases.load(world.uow(), world.id("hubei_applicant"), app_id)
    before, saved = loaded.row, loaded.case.values
    with pytest.raises(ValidationFailed) as err:
        cases.update_draft(world.uow(), world.id("hubei_applicant"), app_id, {field: value},
                           before.version)
    assert (err.value.first.code, err.value.first.field) == (code, field)
    assert err.value.first.details["value"] == value  # what the user typed, to show back
    after = cases.load(world.uow(), world.id("hubei_applicant"), app_id)
    assert after.row.version == before.version
    assert after.case.values[field] == saved[field]


def test_percent_bounds_are_inclusive(world: Any) -> None:
    app_id = factories.draft(world)
    v = cases.load(world.uow(), world.id("hubei_applicant"), app_id).row.version
    v = cases.update_draft(world.uow(), world.id("hubei_applicant"), app_id,
                           {"export_growth_pct": "-100", "hightech_export_growth_pct": "10000"}, v)
    values = cases.load(world.uow(), world.id("hubei_applicant"), app_id).case.values
    assert (str(values["export_growth_pct"]), str(values["hightech_export_growth_pct"])) == (
        "-100.00", "10000.00")


def test_admins_cannot_act_on_cases(world: Any) -> None:
    from workflow.errors import Forbidden

    app_id = factories.submitted(world)
    for admin in ("sysadmin", "secadmin", "auditor"):
        with pytest.raises(Forbidden):
            cases.fire(world.uow(), world.id(admin), app_id, "decline", None, reason="越权")


def test_a_colleague_covering_an_absent_reviewer_acts_on_their_behalf(world: Any) -> None:
    from workflow.storage.models import DeputyRow

    app_id = factories.submitted(world)
    cases.fire(world.uow(), world.id("hubei_reviewer"), app_id, "return_for_revision", None,
               reason="补充材料", now=datetime(2006, 4, 5, 2, tzinfo=UTC))
    cases.fire(world.uow(), world.id("hubei_applicant"), app_id, "submit", None,
               now=datetime(2006, 4, 6, 2, tzinfo=UTC))
    with world.uow() as u:
        u.session.add(DeputyRow(principal_id=world.id("hubei_reviewer"),
                                deputy_id=world.id("hubei_reviewer2"),
                                starts_on=date(2006, 4, 7), ends_on=date(2006, 4, 21)))
        u.commit()
    cases.fire(world.uow(), world.id("hubei_reviewer2"), app_id, "decline", None,
               reason="代为审核：不予推荐", now=datetime(2006, 4, 10, 2, tzinfo=UTC))
    h = cases.history_of(world.uow(), world.id("mofcom"), app_id)[-1]
    assert (h.actor_name, h.on_behalf_of_name) == ("hubei_reviewer2", "hubei_reviewer")
    # a case the absent reviewer never handled is decided in the colleague's own name
    other = factories.submitted(world, "hubei_applicant2", **factories.recertification(world))
    cases.fire(world.uow(), world.id("hubei_reviewer2"), other, "decline", None,
               reason="自行审核", now=datetime(2006, 4, 10, 2, tzinfo=UTC))
    assert cases.history_of(world.uow(), world.id("mofcom"), other)[-1].on_behalf_of_id is None


def test_a_failing_use_case_after_a_transition_still_leaves_nothing(world: Any) -> None:
    """A plain transition runs its two statements without a transaction on PostgreSQL; the
    connection it used goes back to the pool transactional again, so a later use case
    that fails half-way (here: its extra write raises) leaves no trace at all."""
    from workflow.services import audit

    first, second = factories.submitted(world), factories.submitted(world)
    cases.fire(world.uow(), world.id("hubei_reviewer"), first, "decline", None,
               reason="不符合条件")
    before = _snapshot(world, second)

    def half_then_fail(session: Any, _row: object) -> None:
        audit.append(session, "half_done", object_type="application", object_id=second)
        raise RuntimeError("the extra write fails")

    with pytest.raises(RuntimeError):
        cases.fire(world.uow(), world.id("hubei_reviewer"), second, "decline", None,
                   reason="不符合条件", also=half_then_fail)
    assert _snapshot(world, second) == before  # no move, no history row
    with world.uow() as u:
        from sqlalchemy import func, select

        from workflow.storage.models import AuditRow

        assert u.session.scalar(select(func.count()).select_from(AuditRow)
                                .where(AuditRow.event == "half_done")) == 0
        if u.session.get_bind().dialect.name == "postgresql":
            assert u.session.connection().connection.driver_connection.autocommit is False
