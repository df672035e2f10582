"""The demo data a newcomer sees after `make run`: complete, plausible, loaded once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from workflow.eligibility import FAIL
from workflow.services import cases, demo
from workflow.states import State
from workflow.storage.models import ApplicationRow, AuthorityRow, HistoryRow, UserRow


def _counts(uow: Any) -> tuple[int, int, int, int]:
    with uow() as u:
        s = u.session
        return (s.query(AuthorityRow).count(), s.query(UserRow).count(),
                s.query(ApplicationRow).count(), s.query(HistoryRow).count())


def test_demo_data_covers_every_state_and_region_and_loads_only_once(
        uow: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    assert demo.seed(uow(), upload_dir=tmp_path / "uploads") is True
    first = _counts(uow)
    assert demo.seed(uow(), upload_dir=tmp_path / "uploads") is False  # `make run` twice
    assert _counts(uow) == first
    authorities, _, applications, _ = first
    assert authorities == 37 + len(demo.CITIES) and applications >= 30
    with uow() as u:
        rows = u.session.query(ApplicationRow).all()
        states = Counter(r.state for r in rows)
        regions = {r.authority.region for r in rows}
        users = u.session.query(UserRow).all()
        roles_by_region: dict[str, set[str]] = {}
        for user in users:
            if user.authority is not None:
                roles_by_region.setdefault(user.authority.region, set()).add(user.role)
        admin_roles = {user.role for user in users if user.authority is None}
    assert set(states) == {s.value for s in State}, states
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
        uow: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    demo.seed(uow(), upload_dir=tmp_path / "uploads")
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
    assert names("xiangyang_applicant") == {"襄阳新能源汽车出口创新基地"}
    assert names("hubei_applicant") == {"湖北光通信产业集群（省级龙头企业）"}
    hubei = names("hubei_reviewer")
    assert {"宜昌生物医药出口创新基地", "武汉光谷光电子信息产业集群"} <= hubei
    assert "襄阳新能源汽车出口创新基地" not in hubei  # a draft: not submitted yet
    # Deyang's new base, under notice, used Sichuan's quota: Panzhihua's is refused
    panzhihua = next(r.id for r in cases.list_applications(
        uow(), users["sichuan_reviewer"], q="攀枝花", limit=5).items)
    loaded = cases.load(uow(), users["sichuan_reviewer"], panzhihua)
    assert "quota_exceeded" in {r.code for r in loaded.refused["recommend"]}
