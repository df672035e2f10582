"""Test data built through the real service layer (no hand-made states)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from workflow.authorities import city_kind
from workflow.regions import AUTHORITIES
from workflow.roles import Role
from workflow.rules import RoundRules
from workflow.services import cases, files
from workflow.services.clock import CHINA
from workflow.services.passwords import hash_password
from workflow.storage.models import (
    AuthorityRow,
    ExportBaseEventRow,
    ExportBaseRow,
    ReferenceStatRow,
    RoundRow,
    UserRow,
)

PASSWORD = "Test-pass-2006"
PDF = b"%PDF-1.4\n%%EOF\n"
# The register of bases the test world starts with: the national bases designated before
# 2006 (authority -> name, type, document, date). "Has existing bases" (002 §六(三)) and
# what may be re-certified (§五(一)) are read from it.
REGISTER: dict[str, tuple[str, str, str, date]] = {
    "440000": ("广州国家高新技术产品出口基地", "hightech", "外经贸技发[2001]101号", date(2001, 9, 20)),
    "420000": ("武汉国家高新技术产品出口基地", "hightech", "外经贸技发[2001]101号", date(2001, 9, 20)),
    "510000": ("成都国家软件出口基地", "software", "商科技发[2003]202号", date(2003, 11, 6)),
    "210000": ("沈阳国家高新技术产品出口基地", "hightech", "外经贸技发[2002]303号", date(2002, 7, 1)),
    "110000": ("北京国家医药出口基地", "pharmaceutical", "商科技发[2004]404号", date(2004, 5, 18)),
}
_HASH = hash_password(PASSWORD)

# username -> (role, authority code)
USERS: dict[str, tuple[Role, str | None]] = {
    "mofcom": (Role.MINISTRY_REVIEWER, None),
    "mofcom2": (Role.MINISTRY_REVIEWER, None),
    "sysadmin": (Role.SYSTEM_ADMIN, None),
    "secadmin": (Role.SECURITY_ADMIN, None),
    "auditor": (Role.AUDITOR, None),
}
for _code, _slug in {"440000": "guangdong", "420000": "hubei", "430000": "hunan",
                     "510000": "sichuan", "530000": "yunnan", "210000": "liaoning",
                     "220000": "jilin", "110000": "beijing"}.items():
    # a province-level applicant account: the province preparing its own materials (for a
    # provincial leading enterprise, 002 §六(三))
    USERS[f"{_slug}_applicant"] = (Role.APPLICANT, _code)
    USERS[f"{_slug}_applicant2"] = (Role.APPLICANT, _code)
    USERS[f"{_slug}_reviewer"] = (Role.PROVINCIAL_REVIEWER, _code)
    USERS[f"{_slug}_reviewer2"] = (Role.PROVINCIAL_REVIEWER, _code)

# A city tier (GB/T 2260): code -> (name, English name, province, own region or None)
CITIES: dict[str, tuple[str, str, str, str | None]] = {
    "420100": ("武汉市", "Wuhan", "420000", None),
    "420600": ("襄阳市", "Xiangyang", "420000", None),
    "422800": ("恩施土家族苗族自治州", "Enshi", "420000", "west"),  # western development
    "440100": ("广州市", "Guangzhou", "440000", None),
    "510100": ("成都市", "Chengdu", "510000", None),
}
for _code, _slug in {"420100": "wuhan", "420600": "xiangyang", "422800": "enshi",
                     "440100": "guangzhou", "510100": "chengdu"}.items():
    USERS[f"{_slug}_applicant"] = (Role.APPLICANT, _code)  # the city's commerce bureau
USERS["wuhan_applicant2"] = (Role.APPLICANT, "420100")


UPLOAD_DIR = Path("/tmp/eib-test-uploads")  # where the factories put attachments


@dataclass
class World:
    uow: Any
    ids: dict[str, int]
    authorities: dict[str, int]
    bases: dict[str, int]  # authority code -> its national base in the register
    upload_dir: Path = UPLOAD_DIR

    def id(self, username: str) -> int:
        return self.ids[username]


def login(client: Any, username: str) -> None:
    """Log a Flask test client in through the real login form (users without TOTP)."""
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


def build_world(uow: Any, rules: RoundRules | None = None) -> World:
    rules = rules or RoundRules.for_year(2006)
    with uow() as u:
        s = u.session
        auth = {}
        for a in AUTHORITIES:
            row = AuthorityRow(code=a.code, name_zh=a.name_zh, name_en=a.name_en,
                               region=a.region.value, kind=a.kind)
            s.add(row)
            auth[a.code] = row
        s.flush()
        for code, (name, name_en, parent, own) in CITIES.items():
            auth[code] = AuthorityRow(code=code, name_zh=name, name_en=name_en,
                                      region=own or auth[parent].region,
                                      region_overridden=own is not None,
                                      kind=city_kind(name), parent_id=auth[parent].id)
            s.add(auth[code])
        bases = {}
        for code, (name, base_type, document, day) in REGISTER.items():
            base = ExportBaseRow(authority_id=auth[code].id, name=name, base_type=base_type,
                                 designation_document=document, designated_on=day,
                                 status="designated", status_since=day)
            s.add(base)
            s.flush()
            s.add(ExportBaseEventRow(base_id=base.id, status="designated", effective_on=day,
                                     decision="import", document=document))
            bases[code] = base.id
        s.add(RoundRow(year=2006, name_zh="2006年度", name_en="2006", params=rules.to_json(),
                       opened_on=date(2006, 2, 28)))
        for year, nat, reg in ((2003, "62.7", "34.6"), (2004, "50.2", "35.2"),
                               (2005, "31.8", "28.1")):
            s.add(ReferenceStatRow(year=year, national_hightech_growth_pct=Decimal(nat),
                                   region_export_growth_pct={"east": reg, "central": reg,
                                                             "west": reg, "northeast": reg}))
        s.flush()
        for username, (role, code) in USERS.items():
            s.add(UserRow(username=username, display_name=username, role=role.value,
                          email=f"{username}@example.gov.cn",
                          authority_id=auth[code].id if code else None,
                          password_hash=_HASH, password_changed_at=datetime.now(UTC)))
        s.flush()
        ids = {u_.username: u_.id for u_ in s.scalars(select(UserRow))}
        auth_ids = {c: r.id for c, r in auth.items()}
        u.commit()
    return World(uow, ids, auth_ids, bases)


def form_data(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "new_base", "industry_field": "information",
        "applicant_name": "武汉光谷光电子信息产业集群", "contact_person": "张明",
        "contact_phone": "027-87654321", "contact_email": "zhang@example.gov.cn",
        "filled_on": "2006-03-10", "address": "武汉市东湖新技术开发区",
        "characteristic_industry": "光电子信息", "enterprise_count": 120,
        "total_sales_100m_cny": "150.5", "total_assets_10k_cny": "2100000",
        "exports_100m_usd": "12.3", "export_growth_pct": "25.4",
        "profit_tax_10k_cny": "80000", "hightech_exports_100m_usd": "8.6",
        "hightech_export_growth_pct": "48", "hightech_export_growth_pct_prev1": "60",
        "hightech_export_growth_pct_prev2": "55", "employees": 35000,
        "products": [{"name": "光通信设备", "exports_10k_usd": "3000"}],
    }
    data.update(over)
    return data


T0 = datetime(2006, 3, 10, 2, 0, tzinfo=UTC)


def at(day: date | str, hour: int = 10) -> datetime:
    """`hour` o'clock in Beijing on `day` (a date or "YYYY-MM-DD"), in UTC: a moment to
    pass as a service's `now` or to pin the clock to (the `pinned_clock` fixture)."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return datetime.combine(day, time(hour), tzinfo=CHINA).astimezone(UTC)


def draft(world: World, applicant: str = "hubei_applicant", **over: Any) -> int:
    return cases.create_draft(world.uow(), world.id(applicant), form_data(**over), now=T0)


def add_base(world: World, code: str, name: str, base_type: str = "hightech",
             status: str = "designated") -> int:
    """Another national base of `code` in the register (as an import would enter it)."""
    day = date(2002, 6, 1)
    with world.uow() as u:
        base = ExportBaseRow(authority_id=world.authorities[code], name=name,
                             base_type=base_type, designation_document="外经贸技发[2002]1号",
                             designated_on=day, status=status, status_since=day)
        u.session.add(base)
        u.session.flush()
        u.session.add(ExportBaseEventRow(base_id=base.id, status=status, effective_on=day,
                                         decision="import"))
        u.commit()
        return base.id


def recertification(world: World, code: str = "420000") -> dict[str, Any]:
    """The fields that make an application the re-certification of `code`'s national base."""
    return {"kind": "recertification", "industry_field": None,
            "existing_base_id": world.bases[code], "applicant_name": REGISTER[code][0]}


def attach_required(world: World, app_id: int, applicant: str = "hubei_applicant") -> None:
    for kind in ("application_form", "development_plan"):
        files.attach(world.uow(), world.id(applicant), app_id, kind, f"{kind}.pdf", PDF,
                     world.upload_dir, 10 * 1024 * 1024, now=T0)


def upload(client: Any, app_id: int, kind: str, name: str = "file.pdf") -> Any:
    """A file of `kind` added to a case through the API (a PDF)."""
    return client.post(f"/api/v1/applications/{app_id}/attachments",
                       data={"kind": kind, "file": (io.BytesIO(PDF), name)},
                       content_type="multipart/form-data")


def submitted(world: World, applicant: str = "hubei_applicant", **over: Any) -> int:
    app_id = draft(world, applicant, **over)
    attach_required(world, app_id, applicant)
    cases.fire(world.uow(), world.id(applicant), app_id, "submit", None,
               now=datetime(2006, 4, 3, 2, tzinfo=UTC))
    return app_id


def recommended(world: World, applicant: str = "hubei_applicant",
                reviewer: str = "hubei_reviewer", **over: Any) -> int:
    app_id = submitted(world, applicant, **over)
    files.attach(world.uow(), world.id(reviewer), app_id, "recommendation_letter", "letter.pdf",
                 PDF, world.upload_dir, 10 * 1024 * 1024, now=T0)
    cases.fire(world.uow(), world.id(reviewer), app_id, "recommend", None,
               now=datetime(2006, 4, 20, 2, tzinfo=UTC))
    return app_id


def published(world: World, applicant: str = "hubei_applicant",
              reviewer: str = "hubei_reviewer", **over: Any) -> int:
    """Recommended and under public notice from Friday 2006-04-28 (ends 2006-05-10)."""
    app_id = recommended(world, applicant, reviewer, **over)
    cases.fire(world.uow(), world.id("mofcom"), app_id, "publish_notice", None,
               now=datetime(2006, 4, 28, 2, tzinfo=UTC))
    return app_id


def approved(world: World, applicant: str = "hubei_applicant",
             reviewer: str = "hubei_reviewer", **over: Any) -> int:
    app_id = published(world, applicant, reviewer, **over)
    cases.fire(world.uow(), world.id("mofcom2"), app_id, "approve", None,
               now=datetime(2006, 5, 15, 2, tzinfo=UTC))
    return app_id


def designated_in_2007(world: World, programme: str, trigger: str = "approve") -> int:
    """A Hubei base designated in the 2007 round of `programme` (a test programme whose
    round the caller opened): drafted 2007-03-01, submitted 04-02, recommended 04-10, under
    public notice from 04-20, designated by `trigger` (its file's designating transition)
    on 05-09."""
    w = world
    app_id = cases.create_draft(w.uow(), w.id("hubei_applicant"), form_data(
        round_year=2007, filled_on="2007-03-01", programme=programme), now=at("2007-03-01"))
    attach_required(w, app_id)
    cases.fire(w.uow(), w.id("hubei_applicant"), app_id, "submit", None, now=at("2007-04-02"))
    files.attach(w.uow(), w.id("hubei_reviewer"), app_id, "recommendation_letter", "l.pdf",
                 PDF, w.upload_dir, 10 << 20, now=at("2007-04-10"))
    cases.fire(w.uow(), w.id("hubei_reviewer"), app_id, "recommend", None, now=at("2007-04-10"))
    cases.fire(w.uow(), w.id("mofcom"), app_id, "publish_notice", None, now=at("2007-04-20"))
    cases.fire(w.uow(), w.id("mofcom2"), app_id, trigger, None, now=at("2007-05-09"))
    return app_id


class ApiClient:
    """A Flask test client that logs in through the API and sends the bearer token."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}
        self.user: str | None = None

    def as_(self, username: str) -> ApiClient:
        if username not in self.tokens:
            r = self.client.post("/api/v1/auth/token",
                                 json={"username": username, "password": PASSWORD})
            assert r.status_code == 201, r.get_data(as_text=True)
            self.tokens[username] = r.get_json()["token"]
        other = ApiClient(self.client)
        other.tokens, other.user = self.tokens, username
        return other

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[self.user]}"} if self.user else {}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self._headers(), **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers=self._headers(), **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.client.patch(url, headers=self._headers(), **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.client.put(url, headers=self._headers(), **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers=self._headers(), **kw)
