"""Supervision by the provinces (002 §六(三): 动态跟踪、定期评估和报告; §四(四): 重要信息
及时报送). A base files an ad hoc report that stays on its case and reaches the ministry's
and its province's reviewers by mail; a province assesses the bases in its scope and
reports its suggestions to the ministry, which sees them beside its own re-evaluation
proposals. SQLite and PostgreSQL, with a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import factories
from tests.smtp_sink import SmtpServer
from workflow.errors import Forbidden, GuardFailed, ValidationFailed
from workflow.services import clock, mail, supervision

NOW = datetime(2007, 2, 1, 2, tzinfo=UTC)


@pytest.fixture
def base(world: factories.World) -> Iterator[int]:
    app_id = factories.approved(world)  # 武汉 (Hubei) approved in May 2006
    clock.freeze(NOW)
    yield app_id
    clock.freeze(None)


def test_a_base_files_an_ad_hoc_report_that_stays_on_its_case_and_reaches_its_reviewers(
        world: factories.World, base: int, smtp: SmtpServer, client: Any) -> None:
    with pytest.raises(ValidationFailed) as bad:
        supervision.file_report(world.uow(), world.id("hubei_applicant"), base, "rumour", "",
                                "x" * 4001, now=NOW, base_url="http://eib.test")
    assert {r.field for r in bad.value.refusals} == {"kind", "title", "body"}
    supervision.file_report(world.uow(), world.id("hubei_applicant"), base, "problem",
                            "主要企业停产检修", "龙头企业二季度停产检修两个月，出口将下降约三成。",
                            now=NOW, base_url="http://eib.test")
    mail.send_due(world.uow(), settings=smtp.settings(world.upload_dir))
    to = {m["To"].split("@")[0] for m in smtp.sink.messages}
    assert {"mofcom", "mofcom2", "hubei_reviewer", "hubei_reviewer2"} <= to
    assert "hubei_applicant" not in to and "hunan_reviewer" not in to  # not its author, not others
    body = next(m for m in smtp.sink.messages if m["To"].startswith("mofcom@"))
    assert "主要企业停产检修" in str(body["Subject"])
    factories.login(client, "hubei_reviewer")
    page = client.get(f"/cases/{base}").get_data(as_text=True)
    assert "重要信息报送" in page and "龙头企业二季度停产检修两个月" in page
    # another province sees neither the case nor its reports
    with pytest.raises(Exception):  # noqa: B017 — not found for them
        supervision.reports_of(world.uow(), world.id("hunan_reviewer"), base)


def test_an_ad_hoc_report_is_for_bases_and_the_page_keeps_what_was_typed(
        world: factories.World, client: Any) -> None:
    draft = factories.submitted(world)
    with pytest.raises(GuardFailed):
        supervision.file_report(world.uow(), world.id("hubei_reviewer"), draft, "development",
                                "t", "b", base_url="http://eib.test")
    app_id = factories.approved(world, applicant="hunan_applicant", reviewer="hunan_reviewer",
                                applicant_name="长沙先进电池材料出口创新基地")
    factories.login(client, "hunan_reviewer")
    r = client.post(f"/cases/{app_id}/reports", data={"kind": "development", "title": "",
                                                        "body": "新建研发中心投入使用"})
    assert r.status_code == 303  # post/redirect/get: the case page says why, keeps the text
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "标题：必填" in page and "新建研发中心投入使用" in page
    r = client.post(f"/cases/{app_id}/reports", data={"kind": "development", "title": "研发中心",
                                                        "body": "新建研发中心投入使用"})
    assert r.status_code == 303
    assert "研发中心" in client.get(f"/cases/{app_id}").get_data(as_text=True)


def test_a_province_reports_its_assessment_and_the_ministry_sees_it_beside_its_proposals(
        world: factories.World, base: int, smtp: SmtpServer, client: Any) -> None:
    bases = supervision.bases_for_review(world.uow(), world.id("hubei_reviewer"), 2006, NOW)
    assert [b.application_id for b in bases] == [base]
    assert bases[0].proposal in ("keep", "rectify", "revoke")  # the system's, for reference
    with pytest.raises(Forbidden):
        supervision.bases_for_review(world.uow(), world.id("mofcom"), 2006, NOW)
    with pytest.raises(ValidationFailed) as bad:
        supervision.submit_assessment(world.uow(), world.id("hubei_reviewer"), 2006, "",
                                      {base: {"suggestion": "rectify", "findings": ""}},
                                      base_url="http://eib.test")
    assert {r.field for r in bad.value.refusals} == {"summary", f"items[{base}].findings"}
    factories.login(client, "hubei_reviewer")
    r = client.post("/supervision?period=2006", data={  # no summary: refused, typing kept
        "summary": "", f"suggestion-{base}": "rectify", f"findings-{base}": "数据逾期"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/supervision?period=2006")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="form-errors"' in page and "数据逾期</textarea>" in page
    assert 'data-testid="form-errors"' not in client.get(r.headers["Location"]).get_data(
        as_text=True)
    r = client.post("/supervision?period=2006", data={
        "summary": "本省基地总体运行良好，一个基地数据报送不及时。",
        f"suggestion-{base}": "rectify", f"findings-{base}": "第三、四季度数据逾期报送"})
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    page = client.get("/supervision?period=2006").get_data(as_text=True)
    assert 'data-testid="sent"' in page and "第三、四季度数据逾期报送" in page
    mail.send_due(world.uow(), settings=smtp.settings(world.upload_dir))
    assert any("湖北" in str(m["Subject"]) for m in smtp.sink.messages
               if m["To"].startswith("mofcom@"))
    factories.login(client, "mofcom")
    page = client.get("/supervision?period=2006").get_data(as_text=True)
    assert "本省基地总体运行良好" in page and 'data-suggestion="rectify"' in page
    assert supervision.suggestions(world.uow(), world.id("mofcom"), 2006)[base][
        "suggestion"] == "rectify"
