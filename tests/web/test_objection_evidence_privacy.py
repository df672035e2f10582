"""Objection evidence may hold the objector's personal data: only the ministry sees it
(issue 8 §5) — on the case page, by download URL, and through the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests import factories
from workflow.services import objections

EVIDENCE = "李四身份证及海关数据.pdf"


@pytest.fixture
def case_with_evidence(world):
    app_id = factories.published(world)
    objections.file_objection(
        world.uow(), app_id, "李四", "13800001234", "出口数据有误",
        now=datetime(2006, 5, 8, 2, tzinfo=UTC),  # during the notice (04-28 – 05-10)
        evidence=objections.EvidenceUpload(EVIDENCE, factories.PDF, world.upload_dir,
                                           10 * 1024 * 1024))
    with world.uow() as u:
        from sqlalchemy import select

        from workflow.storage.models import AttachmentRow

        att_id = u.session.scalar(select(AttachmentRow.id).where(
            AttachmentRow.kind == "objection_evidence"))
    return app_id, att_id


@pytest.mark.parametrize("who", ["hubei_applicant", "hubei_reviewer"])
def test_applicant_and_province_neither_see_nor_download_the_evidence(browser, api, who,
                                                                      case_with_evidence):
    app_id, att_id = case_with_evidence
    page = browser.login(who).text(f"/cases/{app_id}")
    assert "letter.pdf" in page or who == "hubei_applicant"  # other files are still listed
    assert "application_form.pdf" in page
    assert EVIDENCE not in page and f"/attachments/{att_id}\"" not in page
    assert browser.get(f"/cases/{app_id}/attachments/{att_id}").status_code == 404
    listed = api.as_(who).get(f"/api/v1/applications/{app_id}/attachments")
    assert listed.status_code == 200
    names = [a["filename"] for a in listed.get_json()]
    assert "application_form.pdf" in names and EVIDENCE not in names
    assert api.as_(who).get(f"/api/v1/attachments/{att_id}/content").status_code == 404


def test_the_ministry_sees_and_downloads_the_evidence_on_the_page_and_by_api(
        browser, api, case_with_evidence):
    app_id, att_id = case_with_evidence
    page = browser.login("mofcom").text(f"/cases/{app_id}")
    assert EVIDENCE in page and "异议证明材料" in page
    r = browser.get(f"/cases/{app_id}/attachments/{att_id}")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    r.close()
    listed = api.as_("mofcom").get(f"/api/v1/applications/{app_id}/attachments")
    assert EVIDENCE in [a["filename"] for a in listed.get_json()]
    r = api.as_("mofcom").get(f"/api/v1/attachments/{att_id}/content")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    r.close()
