"""Case actions besides transitions land in the audit log, inside their own transaction,
and the hash chain still verifies (issue 8 §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests import factories
from workflow.errors import ValidationFailed
from workflow.services import audit, cases, deputies, files, objections

DURING_NOTICE = datetime(2006, 5, 8, 2, tzinfo=UTC)


def _log(world, **filters) -> list:
    """The auditor's view, oldest first."""
    return list(reversed(audit.search(world.uow(), world.id("auditor"), filters)))


def test_drafting_editing_uploading_and_confirming_are_audited(world):
    app_id = factories.draft(world)  # created through cases.create_draft
    applicant = world.id("hubei_applicant")
    cases.update_draft(world.uow(), applicant, app_id,
                       factories.form_data(address="武汉市东湖高新区光谷大道 1 号"), 1)
    factories.attach_required(world, app_id)
    cases.fire(world.uow(), applicant, app_id, "submit", None,
               now=datetime(2006, 4, 3, 2, tzinfo=UTC))
    cases.set_attestations(world.uow(), world.id("hubei_reviewer"), app_id,
                           {"local_policy": True}, 3)
    rows = _log(world, object_type="application", object_id=str(app_id))
    assert [r.event for r in rows] == ["draft_created", "draft_updated", "attachment_uploaded",
                                       "attachment_uploaded", "case_action",
                                       "attestations_confirmed"]
    created, updated, upload = rows[0], rows[1], rows[2]
    assert created.actor_name == "hubei_applicant" and created.details["kind"] == "new_base"
    assert updated.details == {"version": 2, "fields": ["address"], "products": True}
    assert "光谷大道" not in str(updated.details)  # names of fields, not their contents
    assert upload.details["kind"] == "application_form" and len(upload.details["sha256"]) == 64
    assert rows[-1].actor_role == "provincial_reviewer"
    assert rows[-1].details["values"] == {"local_policy": True}
    assert audit.verify(world.uow()).ok


def test_a_refused_edit_or_upload_leaves_no_record(world):
    app_id = factories.draft(world)
    before = len(_log(world))
    with pytest.raises(ValidationFailed):
        cases.update_draft(world.uow(), world.id("hubei_applicant"), app_id,
                           factories.form_data(contact_email="not-an-email"), 1)
    with pytest.raises(ValidationFailed):
        files.attach(world.uow(), world.id("hubei_applicant"), app_id, "development_plan",
                     "plan.pdf", b"MZ\x90", world.upload_dir, 1024 * 1024)
    assert len(_log(world)) == before


def test_naming_and_ending_a_deputy_are_audited(world):
    now = datetime(2006, 4, 21, 2, tzinfo=UTC)
    period = deputies.name_deputy(world.uow(), world.id("hubei_reviewer"),
                                  world.id("hubei_reviewer2"), date(2006, 4, 24),
                                  date(2006, 5, 12), now=now)
    deputies.end_period(world.uow(), world.id("hubei_reviewer"), period, now=now)
    rows = _log(world, object_type="deputy")
    assert [r.event for r in rows] == ["deputy_named", "deputy_period_ended"]
    assert rows[0].actor_name == "hubei_reviewer" and rows[0].object_id == str(period)
    assert rows[0].details["deputy"] == "hubei_reviewer2"
    assert rows[1].details["removed"] is True  # it had not started yet
    assert audit.verify(world.uow()).ok


def test_filing_dismissing_and_upholding_objections_are_audited_without_the_objector(world):
    app_id = factories.published(world)
    first = objections.file_objection(world.uow(), app_id, "李四", "13800001234", "数据有误",
                                      ip="203.0.113.5", now=DURING_NOTICE)
    second = objections.file_objection(world.uow(), app_id, "王五", "wang@example.com",
                                       "企业排名不实", now=DURING_NOTICE)
    ids = {o.confirmation_no: o.id for o in objections.open_for(world.uow(), app_id)}
    objections.dismiss(world.uow(), world.id("mofcom"), ids[first], "数据与海关统计一致",
                       now=DURING_NOTICE)
    objections.uphold(world.uow(), world.id("mofcom"), ids[second], "排名确有不实", None,
                      now=DURING_NOTICE)
    rows = _log(world, object_type="objection")
    assert [(r.event, r.object_id) for r in rows] == [
        ("objection_filed", first), ("objection_filed", second),
        ("objection_dismissed", first), ("objection_upheld", second)]
    assert rows[0].actor_id is None and rows[0].ip == "203.0.113.5"
    assert rows[3].actor_name == "mofcom" and rows[3].details["application_id"] == app_id
    logged = " ".join(str(r.details) for r in rows)
    assert "李四" not in logged and "13800001234" not in logged
    assert _log(world, object_id=str(app_id))[-1].details["trigger"] == "uphold_objection"
    assert audit.verify(world.uow()).ok
