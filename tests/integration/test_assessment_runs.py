"""Assessment runs on a real database: idempotent, dry runs change nothing, bulk queries,
and confirmation moves cases through the workflow with history and deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests import databases, factories
from workflow.calendar import DEFAULT_CALENDAR
from workflow.services import assessment, cases, reports
from workflow.storage.models import ApplicationRow, EvaluationRow

NOW = datetime(2007, 2, 1, 2, tzinfo=UTC)  # assess 2006 on 2007-02-01
LATER = datetime(2008, 2, 1, 2, tzinfo=UTC)  # assess 2007 a year later
FILED = datetime(2006, 12, 20, 2, tzinfo=UTC)
REF_2006 = {"national_hightech_exports_100m_usd": "2815", "national_hightech_growth_pct": "29",
            "region_export_growth_pct": {r: "27" for r in ("east", "central", "west",
                                                           "northeast")}}


def file_year(world: factories.World, app_id: int, applicant: str, year: int,
              quarters: tuple[int, ...] = (1, 2, 3, 4), hightech: str = "25000",
              annual: bool = True, tmp: Path | None = None) -> None:
    when = datetime(year, 12, 20, 2, tzinfo=UTC) if 4 not in quarters else \
        datetime(year + 1, 1, 10, 2, tzinfo=UTC)
    for q in quarters:
        reports.submit_quarter(world.uow(), world.id(applicant), app_id,
                               {"year": year, "quarter": q, "exports_10k_usd": "40000",
                                "hightech_exports_10k_usd": hightech}, now=when)
    if annual:
        reports.submit_annual_report(
            world.uow(), world.id(applicant), app_id,
            {"year": year, "summary": "年度总结", "next_year_plan": "下年度思路",
             "policies_in_force": True, "project_funding_10k_cny": "500"},
            "report.pdf", factories.PDF, tmp or world.upload_dir, 1024 * 1024,
            now=datetime(year, 12, 20, 2, tzinfo=UTC))


@pytest.fixture
def bases(world: factories.World) -> dict[str, int]:
    """Hubei reports everything (keep), Hunan misses Q4 (rectify), Sichuan nothing (rectify)."""
    reports.save_reference_stats(world.uow(), world.id("mofcom"), 2006, REF_2006, now=NOW)
    out = {"hubei": factories.approved(world),
           "hunan": factories.approved(world, "hunan_applicant", "hunan_reviewer",
                                       applicant_name="长沙软件出口基地"),
           "sichuan": factories.approved(world, "sichuan_applicant", "sichuan_reviewer",
                                         applicant_name="成都信息产业基地")}
    file_year(world, out["hubei"], "hubei_applicant", 2006)
    file_year(world, out["hunan"], "hunan_applicant", 2006, quarters=(1, 2, 3))
    return out


def evaluations(uow: Any) -> list[tuple[int, int, str, str]]:
    with uow() as u:
        return [(e.application_id, e.period, e.proposal, e.status)
                for e in u.session.scalars(select(EvaluationRow).order_by(EvaluationRow.id))]


def state_of(uow: Any, app_id: int) -> tuple[str, date | None]:
    with uow() as u:
        row = u.session.get(ApplicationRow, app_id)
        return row.state, row.rectification_deadline


def test_running_twice_for_a_period_gives_one_evaluation_per_base(
        uow: Any, world: factories.World, bases: dict[str, int]) -> None:
    first = assessment.run(uow(), 2006, user_id=world.id("mofcom"), now=NOW)
    second = assessment.run(uow(), 2006, user_id=world.id("mofcom"), now=NOW)
    assert (first.bases, second.bases) == (3, 3)
    assert first.proposals == second.proposals == {"keep": 1, "rectify": 2, "revoke": 0}
    got = evaluations(uow)
    assert len(got) == 3 and len({(a, p) for a, p, _, _ in got}) == 3
    assert {a: p for a, _, p, _ in got} == {bases["hubei"]: "keep", bases["hunan"]: "rectify",
                                            bases["sichuan"]: "rectify"}


def test_a_dry_run_proposes_without_storing_anything(
        uow: Any, world: factories.World, bases: dict[str, int]) -> None:
    preview = assessment.preview(uow(), world.id("mofcom"), 2006, now=NOW)
    by_id = {a.application_id: a for a, _, _ in preview.items}
    assert by_id[bases["hunan"]].proposal == "rectify"
    assert "2006 年第 4 季度数据未报送" in by_id[bases["hunan"]].explanation()
    assert preview.counts.as_dict()["rectify"] == 2
    assert evaluations(uow) == []
    with uow() as u:
        assert u.session.scalar(select(func.count()).select_from(EvaluationRow)) == 0


def test_a_year_that_has_not_closed_is_only_a_provisional_dry_run(
        uow: Any, world: factories.World, bases: dict[str, int]) -> None:
    from workflow.errors import ValidationFailed

    may = datetime(2006, 5, 20, 2, tzinfo=UTC)  # Q2–Q4 of 2006 are not due yet
    with pytest.raises(ValidationFailed) as refused:
        assessment.start(uow(), world.id("mofcom"), 2006, now=may)
    assert refused.value.first.code == "period_not_closed"
    # its last report, Q4 2006, is due 15 working days after New Year (1–3 January off)
    assert refused.value.first.details["closes_on"] == "2007-01-24"
    preview = assessment.preview(uow(), world.id("mofcom"), 2006, now=may)
    assert preview.provisional is not None and "2007-01-24" in preview.provisional.zh
    assert "provisional" in preview.provisional.en
    assert evaluations(uow) == []
    # once the year has closed the same run is for real, and not provisional
    assert assessment.preview(uow(), world.id("mofcom"), 2006, now=NOW).provisional is None
    assert assessment.run(uow(), 2006, user_id=world.id("mofcom"), now=NOW).written > 0


def test_only_the_ministry_runs_an_assessment(uow: Any, world: factories.World) -> None:
    from workflow.errors import Forbidden

    with pytest.raises(Forbidden):
        assessment.run(uow(), 2006, user_id=world.id("hubei_reviewer"), now=NOW)


def test_the_number_of_sql_statements_does_not_grow_with_the_number_of_bases(
        uow: Any, db_url: str, world: factories.World, bases: dict[str, int]) -> None:
    def statements(dry: bool) -> int:
        with databases.statements_sent(db_url) as seen:
            assessment.run(uow(), 2006, dry, now=NOW)
        return len(seen)

    with_three = (statements(True), statements(False))
    assert with_three[0] >= 4 and with_three[1] > with_three[0]
    for applicant, reviewer in (("yunnan_applicant", "yunnan_reviewer"),
                                ("jilin_applicant", "jilin_reviewer")):
        app_id = factories.approved(world, applicant, reviewer)
        file_year(world, app_id, applicant, 2006)
    assert (statements(True), statements(False)) == with_three


def test_confirming_moves_each_case_with_history_and_a_rectification_deadline(
        uow: Any, world: factories.World, bases: dict[str, int]) -> None:
    assessment.run(uow(), 2006, user_id=world.id("mofcom"), now=NOW)
    ids = {e.application_id: e.id for e, _, _, _ in
           assessment.proposals(uow(), world.id("mofcom"), 2006)}
    results = assessment.confirm(uow(), world.id("mofcom"),
                                 [ids[bases["hubei"]], ids[bases["hunan"]], ids[bases["hunan"]]],
                                 now=NOW)
    assert [(r["ok"], r.get("state") or r["code"]) for r in results] == [
        (True, "re_evaluated"), (True, "rectifying"), (False, "guard_failed")]
    assert results[2]["errors"][0]["code"] == "already_confirmed"
    deadline = DEFAULT_CALENDAR.add_working_days(date(2007, 2, 1), 60)
    assert state_of(uow, bases["hunan"]) == ("rectifying", deadline)
    assert state_of(uow, bases["hubei"])[0] == "re_evaluated"
    hist = cases.history_of(uow(), world.id("mofcom"), bases["hunan"])[-1]
    assert (hist.trigger, hist.to_state, hist.data["evaluation_id"]) == (
        "order_rectification", "rectifying", ids[bases["hunan"]])
    assert "第 4 季度数据未报送" in hist.reason and hist.data["deadline"] == deadline.isoformat()
    statuses = {a: s for a, _, _, s in evaluations(uow)}
    assert statuses == {bases["hubei"]: "confirmed", bases["hunan"]: "confirmed",
                        bases["sichuan"]: "proposed"}
    # a confirmed verdict survives a re-run of the same period
    assessment.run(uow(), 2006, user_id=world.id("mofcom"), now=NOW)
    assert {a: s for a, _, _, s in evaluations(uow)} == statuses


def test_a_base_still_failing_after_rectification_is_revoked_on_confirmation(
        uow: Any, world: factories.World, bases: dict[str, int]) -> None:
    assessment.run(uow(), 2006, user_id=world.id("mofcom"), now=NOW)
    [(ev, _, _, _)] = [p for p in assessment.proposals(uow(), world.id("mofcom"), 2006)
                       if p[0].application_id == bases["sichuan"]]
    assessment.confirm(uow(), world.id("mofcom"), [ev.id], now=NOW)
    assert state_of(uow, bases["sichuan"])[0] == "rectifying"
    counts = assessment.run(uow(), 2007, user_id=world.id("mofcom"), now=LATER)
    assert counts.proposals["revoke"] == 1
    [(ev, _, _, _)] = assessment.proposals(uow(), world.id("mofcom"), 2007, proposal="revoke")
    assert ev.application_id == bases["sichuan"]
    assert "限期整改" in ev.explanation_zh and "届满后仍不符合要求" in ev.explanation_zh
    [result] = assessment.confirm(uow(), world.id("mofcom"), [ev.id], now=LATER)
    assert result["ok"] and result["state"] == "revoked"
    hist = cases.history_of(uow(), world.id("mofcom"), bases["sichuan"])[-1]
    assert hist.trigger == "revoke" and hist.reason.startswith("2007 年度复评建议：撤销")


def test_an_interrupted_run_resumes_without_duplicating(
        uow: Any, world: factories.World, bases: dict[str, int]) -> None:
    run_id = assessment.start(uow(), world.id("mofcom"), 2006, now=NOW)

    def die_after_first_chunk(done: int, total: int) -> None:
        raise KeyboardInterrupt("worker killed")

    with pytest.raises(KeyboardInterrupt):
        assessment.execute(uow(), run_id, now=NOW, chunk_size=1, progress=die_after_first_chunk)
    assert len(evaluations(uow)) == 1
    counts = assessment.execute(uow(), run_id, now=NOW, chunk_size=1)
    assert (counts.bases, counts.written) == (3, 2)
    assert len(evaluations(uow)) == 3
    [run] = [r for r in assessment.runs(uow(), world.id("mofcom")) if r.id == run_id]
    assert run.status == "finished" and run.summary["keep"] == 1


def test_a_base_within_its_rectification_deadline_stays_in_rectification_on_confirmation(
        uow: Any, world: factories.World, bases: dict[str, int]) -> None:
    from workflow.storage import rounds_repo

    with uow() as u:  # this round gives a long rectification period (300 working days)
        rnd = rounds_repo.round_by_year(u.session, 2006)
        rnd.params = {**rnd.params, "rectification_working_days": 300}
        u.commit()
    assessment.run(uow(), 2006, user_id=world.id("mofcom"), now=NOW)
    [(ev, _, _, _)] = [p for p in assessment.proposals(uow(), world.id("mofcom"), 2006)
                       if p[0].application_id == bases["sichuan"]]
    assessment.confirm(uow(), world.id("mofcom"), [ev.id], now=NOW)
    state, deadline = state_of(uow, bases["sichuan"])
    assert state == "rectifying" and deadline is not None and deadline > LATER.date()
    assessment.run(uow(), 2007, user_id=world.id("mofcom"), now=LATER)
    [(ev, _, _, _)] = [p for p in assessment.proposals(uow(), world.id("mofcom"), 2007)
                       if p[0].application_id == bases["sichuan"]]
    assert ev.proposal == "rectify"
    assert any(f["criterion"] == "rectification" and "尚未届满" in f["zh"] for f in ev.findings)
    [result] = assessment.confirm(uow(), world.id("mofcom"), [ev.id], now=LATER)
    assert result["ok"] and result["state"] == "rectifying"
    assert state_of(uow, bases["sichuan"]) == ("rectifying", deadline)  # the deadline stands
    hist = cases.history_of(uow(), world.id("mofcom"), bases["sichuan"])[-1]
    assert (hist.trigger, hist.data["evaluation_id"]) == ("continue_rectification", ev.id)


def test_a_run_larger_than_one_write_statement_still_writes_each_base_once(
        uow: Any, world: factories.World, bases: dict[str, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from workflow.storage import reports_repo

    monkeypatch.setattr(reports_repo, "ROWS_PER_STATEMENT", 2)  # 3 bases: two statements
    for _ in range(2):
        counts = assessment.run(uow(), 2006, user_id=world.id("mofcom"), now=NOW)
        assert counts.proposals == {"keep": 1, "rectify": 2, "revoke": 0}
    assert sorted(a for a, _, _, _ in evaluations(uow)) == sorted(bases.values())
