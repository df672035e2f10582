"""The demo data a newcomer sees after `make run`: complete, plausible, loaded once."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from config import for_tests
from workflow.eligibility import FAIL
from workflow.services import cases, demo
from workflow.states import State
from workflow.storage.models import (
    ApplicationRow,
    AuthorityRow,
    ExportBaseEventRow,
    ExportBaseRow,
    HistoryRow,
    UserRow,
)


def _counts(uow: Any) -> tuple[int, int, int, int]:
    with uow() as u:
        s = u.session
        return (s.query(AuthorityRow).count(), s.query(UserRow).count(),
                s.query(ApplicationRow).count(), s.query(HistoryRow).count())


def test_demo_data_covers_every_state_and_region_and_loads_only_once(
        uow: Any, tmp_path: Path) -> None:
    assert demo.seed(uow(), for_tests(tmp_path)) is True
    first = _counts(uow)
    assert demo.seed(uow(), for_tests(tmp_path)) is False  # `make run` twice
    assert _counts(uow) == first
    authorities, _, applications, _ = first
    assert authorities == 37 + len(demo.CITIES) and applications >= 30
    with uow() as u:
        rows = u.session.query(ApplicationRow).all()
        states = Counter(r.state for r in rows if r.round.programme == "mofcom-2006-6")
        guangdong = Counter(r.state for r in rows if r.round.programme == demo.GUANGDONG)
        regions = {r.authority.region for r in rows}
        users = u.session.query(UserRow).all()
        roles_by_region: dict[str, set[str]] = {}
        for user in users:
            if user.authority is not None:
                roles_by_region.setdefault(user.authority.region, set()).add(user.role)
        admin_roles = {user.role for user in users if user.authority is None}
    assert set(states) == {s.value for s in State}, states
    # Guangdong's own programme runs a round of its own: a draft, two with the province,
    # one enterprise designated
    assert guangdong == {"drafted": 1, "provincially_reviewed": 2,
                         "enterprise_designated": 1}, guangdong
    assert regions == {"east", "central", "west", "northeast"}
    for region in ("east", "central", "west", "northeast"):
        assert roles_by_region[region] == {"applicant", "provincial_reviewer"}
    assert admin_roles == {"ministry_reviewer", "system_admin", "security_admin", "auditor"}
    ministry = next(x.id for x in users if x.username == "mofcom_reviewer")
    failing = [r.applicant_name for r in rows
               if any(v.outcome == FAIL for v in cases.eligibility_of(uow(), ministry, r.id))
               and r.state != "drafted"]
    assert "昆明生物医药出口创新基地" in failing  # US$9.99M in the west: below US$10M


def test_the_demo_has_a_city_tier_whose_applicants_see_their_own_citys_cases(
        uow: Any, tmp_path: Path) -> None:
    demo.seed(uow(), for_tests(tmp_path))
    with uow() as u:
        s = u.session
        cities = {a.code: a for a in s.query(AuthorityRow).filter(
            AuthorityRow.parent_id.is_not(None))}
        provinces = {c.parent.code for c in cities.values()}
        users = {x.username: x.id for x in s.query(UserRow)}
    assert provinces == {"420000", "440000", "510000"}
    assert (cities["422800"].region, cities["422800"].region_overridden) == ("west", True)
    for name in ("wuhan", "guangzhou", "chengdu", "enshi", "hubei"):
        assert f"{name}_applicant" in users

    def names(user: str) -> set[str]:
        page = cases.list_applications(uow(), users[user], limit=200)
        return {r.applicant_name or "" for r in page.items}

    assert names("wuhan_applicant") == {"武汉光谷光电子信息产业集群", "武汉国家高新技术产品出口基地"}
    assert names("xiangyang_applicant") == {"襄阳汽车新材料出口创新基地"}
    assert names("hubei_applicant") == {"湖北光通信产业集群（省级龙头企业）"}
    hubei = names("hubei_reviewer")
    assert {"宜昌生物医药出口创新基地", "武汉光谷光电子信息产业集群"} <= hubei
    assert "襄阳汽车新材料出口创新基地" not in hubei  # a draft: not submitted yet
    # Deyang's new base, under notice, used Sichuan's quota: Panzhihua's is refused
    panzhihua = next(r.id for r in cases.list_applications(
        uow(), users["sichuan_reviewer"], q="攀枝花", limit=5).items)
    loaded = cases.load(uow(), users["sichuan_reviewer"], panzhihua)
    assert "quota_exceeded" in {r.code for r in loaded.refused["recommend"]}


# the authorities whose quota the demo's story assumes "with bases" (002 §六(三)): Guangdong
# re-certifies only, Hunan has none, …
WITH_BASES = {"110000", "120000", "310000", "320000", "330000", "350000", "370000", "440000",
              "440300", "210000", "210200", "420000", "510000", "610000", "340000", "230000",
              "370200", "330200", "350200", "500000"}
TYPE_IN_NAME = {"软件出口基地": "software", "医药出口基地": "pharmaceutical",
                "高新技术产品出口基地": "hightech"}


def test_the_demo_register_holds_the_bases_its_cases_imply_and_the_cases_agree_with_it(
        uow: Any, tmp_path: Path) -> None:
    demo.seed(uow(), for_tests(tmp_path))
    with uow() as u:
        s = u.session
        entries = s.query(ExportBaseRow).all()
        apps = s.query(ApplicationRow).all()
        by_id = {e.id: e for e in entries}
        # a city's base counts for its province (002 §六(三): the quota is the province's)
        codes = {a.id: a.province.code for a in s.query(AuthorityRow)}
        national = [e for e in entries if e.base_type != "innovation"]
        # every national base of 2006 with its (invented, labelled) document and date
        assert all(e.designation_document and e.designated_on.year < 2006 for e in national)
        assert all(e.note == "演示数据：认定文号为虚构" for e in national)
        assert {codes[e.authority_id] for e in entries if e.status != "revoked"} == WITH_BASES
        assert any(e.status == "revoked" for e in national)  # one lost its designation
        for app in apps:
            if app.kind == "recertification":
                base = by_id[app.existing_base_id]
                assert base.name == app.applicant_name and base.authority_id == app.authority_id
                kind = next(t for word, t in TYPE_IN_NAME.items() if word in app.applicant_name)
                assert base.base_type == app.existing_base_type == kind, app.applicant_name
            elif app.kind == "new_base":  # (an enterprise of Guangdong's programme: none)
                assert app.industry_field in ("information", "pharmaceuticals", "software",
                                              "new_materials", "fine_chemicals", "marine",
                                              "aerospace")
        kinds = {a.applicant_name: a.existing_base_type or a.industry_field for a in apps}
        assert kinds["大连国家软件出口基地"] == "software"
        assert kinds["上海国家医药出口基地"] == "pharmaceutical"
        assert kinds["西安航空航天出口创新基地"] == "aerospace"
        assert kinds["成都软件与信息服务出口基地"] == "software"
        assert len({a.industry_field for a in apps if a.kind == "new_base"}) == 7
        # each base the 2006 round designated entered the register on its approval
        status = {"approved": "designated", "re_evaluated": "designated",
                  "rectifying": "rectifying", "revoked": "revoked"}
        designated = {a.id: status[a.state] for a in apps if a.state in status}
        entered = {e.application_id: e.status for e in entries if e.application_id}
        assert entered == designated
        dalian = next(e for e in entries if e.name == "大连国家软件出口基地"
                      and e.base_type == "innovation")
        assert by_id[dalian.recertifies_id].base_type == "software"
        assert dalian.designated_on == date(2006, 5, 15)


def test_a_demo_loaded_before_the_register_gets_it_on_the_next_run(
        uow: Any, tmp_path: Path) -> None:
    demo.seed(uow(), for_tests(tmp_path))
    with uow() as u:  # as a demo loaded before 0014 was: no national base, nothing named
        s = u.session
        national = [e for e in s.query(ExportBaseRow) if e.application_id is None]
        for e in s.query(ExportBaseRow):
            e.recertifies_id = None
        for app in s.query(ApplicationRow):
            app.existing_base_id = None
        s.flush()
        ids = [e.id for e in national]
        s.query(ExportBaseEventRow).filter(ExportBaseEventRow.base_id.in_(ids)).delete()
        s.query(ExportBaseRow).filter(ExportBaseRow.id.in_(ids)).delete()
        u.commit()
    assert demo.seed(uow(), for_tests(tmp_path)) is False
    with uow() as u:
        s = u.session
        assert s.query(ExportBaseRow).filter(ExportBaseRow.application_id.is_(None)).count() \
            == len(ids)
        unnamed = s.query(ApplicationRow).filter_by(kind="recertification",
                                                    existing_base_id=None).count()
        assert unnamed == 0
        dalian = s.query(ExportBaseRow).filter_by(name="大连国家软件出口基地",
                                                  base_type="innovation").one()
        assert s.get(ExportBaseRow, dalian.recertifies_id).base_type == "software"


def test_the_demo_judges_its_own_locality_and_shows_clusters_and_the_provinces_rank(
        uow: Any, tmp_path: Path) -> None:
    """002 §六(二)(3): each demo province's own export growth is entered, so criterion (3)
    uses the applicant's locality; 002 §六, §六(二)(4): a central cluster with its leading
    enterprises and their national ranks; 002 §六(二)(2): the province stated the rank."""
    demo.seed(uow(), for_tests(tmp_path))
    with uow() as u:
        users = {x.username: x.id for x in u.session.query(UserRow)}
        by_name = {r.applicant_name: r.id for r in u.session.query(ApplicationRow)}
    ministry = users["mofcom_reviewer"]

    def verdict(name: str, source: str) -> Any:
        return next(v for v in cases.eligibility_of(uow(), ministry, by_name[name])
                    if v.source == source)

    growth = verdict("武汉光谷光电子信息产业集群", "002 §六(二)(3)")
    assert growth.figures["locality"]["basis"] == "province"
    assert growth.figures["locality"]["authority_code"] == "420000"
    assert "湖北省统计局" in growth.figures["locality"]["sources"][0]
    wuhan = cases.load(uow(), ministry, by_name["武汉光谷光电子信息产业集群"]).case
    assert wuhan.values["applicant_type"] == "cluster"
    assert [(e["name"], e["national_rank"]) for e in wuhan.values["leading_enterprises"]][:2] == [
        ("烽火通信科技股份有限公司", 2), ("长飞光纤光缆有限公司", 1)]
    both = verdict("武汉光谷光电子信息产业集群", "002 §六(二)(2)")
    assert both.outcome == "pass" and "排名第 1 位（共 12 个）" in both.zh
    assert "860.00 百万美元 ≥ 本地区门槛 50 百万美元" in both.zh
    xian = verdict("西安航空航天出口创新基地", "002 §六(二)(2)")
    assert xian.outcome == FAIL and "未位居前列" in xian.zh  # the reason Shaanxi declined
    waiting = verdict("芜湖精细化工出口创新基地", "002 §六(二)(2)")  # still with Anhui
    assert waiting.outcome == "pending" and "待省级商务主管部门填报" in waiting.zh
    panzhihua = cases.load(uow(), ministry, by_name["攀枝花新材料出口创新基地"]).case
    assert panzhihua.values["applicant_type"] == "cluster"  # a western cluster
    # 002 §六(三): each demo cluster is drafted by the bureau of a city where one of its
    # leading enterprises is, or by the province itself (a provincial leading enterprise)
    drafters = {}
    for name in demo.CLUSTERS:
        cluster = cases.load(uow(), ministry, by_name[name]).case
        assert cluster.programme.form.drafter_checks(cluster.kind, cluster.values,
                                                     cluster.drafter) == [], name
        drafters[name] = (cluster.drafter.name_zh, cluster.drafter.is_city)
    assert drafters == {"武汉光谷光电子信息产业集群": ("武汉市", True),
                        "湖北光通信产业集群（省级龙头企业）": ("湖北省", False),
                        "攀枝花新材料出口创新基地": ("攀枝花市", True)}
