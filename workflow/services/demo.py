"""Demo data: all 37 authorities and a city tier under Hubei, Guangdong and Sichuan, users
for every role, the 2006 round with its real calendar, ~30 applications in every state and
region (some failing a criterion) — and a current round dated relative to the day the demo
is loaded, so that the system is alive on today's clock.

- Cities (002 §六(三): a city's commerce bureau prepares its materials, the province
  reviews and recommends): each has an applicant account (`wuhan_applicant`, …) and the
  cases named after it; 恩施州 is classed West (western development) inside central Hubei.
  A province-level applicant account (`hubei_applicant`, …) is the province preparing the
  materials of a provincial leading enterprise itself.

- The 2006 round keeps its real calendar and history; it closed at the end of 2006
  (`rounds.closed_on`), so on today's clock its unfinished cases wait on no one and
  get no reminders, while its bases keep reporting: every quarter and year up to now is
  filed, except the last quarter of one base (late), and one base's rectification
  deadline passed two working days ago. With `APP_NOW` in 2006 the round is open again.
- The current round (this year's) runs now: drafts due in a week, cases under provincial
  review, one recommended, one public notice running.
- The register of bases (出口基地名录) holds the national 高新技术产品 / 医药 / 软件 export bases
  of 2006 that the cases imply (every re-certification names one; they decide which
  provinces "have bases", 002 §六(三)), imported as the ministry would import its list —
  their document numbers are invented and the entries say so — and, through approval,
  the export innovation bases the 2006 round designated.

Idempotent: a marker row in `settings` says it ran; a second run changes nothing.
Applications are moved through the real service layer at their dates, so their history
is what the workflow would have recorded.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from config import Settings
from workflow import quarterly_data
from workflow.authorities import City
from workflow.calendar import WorkCalendar
from workflow.regions import AUTHORITIES, Region
from workflow.register import COLUMNS
from workflow.reporting import QUARTER_END, quarter_of, quarterly_due
from workflow.roles import Role
from workflow.rules import RoundRules
from workflow.services import bases, cases, files, objections
from workflow.services.clock import CHINA, local_date, real_utcnow
from workflow.services.passwords import hash_password
from workflow.storage import (
    authorities_repo,
    cases_repo,
    reference_repo,
    register_repo,
    rounds_repo,
    users_repo,
)
from workflow.storage.models import (
    AnnualReportRow,
    ApplicationRow,
    AuthorityRow,
    ExportBaseRow,
    QuarterlyReportRow,
    ReferenceStatRow,
    RoundRow,
    SettingRow,
    UserRow,
)
from workflow.storage.uow import DbSession, UnitOfWork

DEMO_PASSWORD = "Demo-2006-pass"
MARKER = "demo_seeded"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

# The national export bases that existed in 2006 (002 §五(一)): each re-certification of
# the demo names one, and they make their provinces ones that "have bases" (002 §六(三)).
# Names and dates are plausible; the document numbers are invented (demo data), and each
# entry's note says so. Imported as a ministry reviewer would import the list.
DEMO_NOTE = "演示数据：认定文号为虚构"
HT, PH, SW = "高新技术产品出口基地", "医药出口基地", "软件出口基地"
HT_2001, HT_2002 = ("外经贸技发[2001]459号", "2001-09-20"), ("外经贸技发[2002]238号", "2002-07-15")
SW_2003, SW_2005 = ("商科技发[2003]256号", "2003-11-18"), ("商科技发[2005]87号", "2005-04-12")
PH_2004 = ("商科技发[2004]112号", "2004-06-08")
REGISTER_2006: list[tuple[str, str, str, tuple[str, str]]] = [
    ("110000", "中关村国家高新技术产品出口基地", HT, HT_2001),
    ("120000", "天津国家医药出口基地", PH, PH_2004),
    ("210000", "沈阳国家高新技术产品出口基地", HT, HT_2002),
    ("210200", "大连国家软件出口基地", SW, SW_2003),
    ("230000", "哈尔滨国家高新技术产品出口基地", HT, HT_2002),
    ("310000", "上海国家医药出口基地", PH, PH_2004),
    ("320000", "苏州国家高新技术产品出口基地", HT, HT_2001),
    ("320000", "泰州国家医药出口基地", PH, PH_2004),
    ("330000", "杭州国家软件出口基地", SW, SW_2003),
    ("330200", "宁波国家高新技术产品出口基地", HT, HT_2002),
    ("340000", "合肥国家高新技术产品出口基地", HT, HT_2002),
    ("350000", "福州国家软件出口基地", SW, SW_2005),
    ("350200", "厦门国家软件出口基地", SW, SW_2005),
    ("370000", "济南国家软件出口基地", SW, SW_2003),
    ("370200", "青岛国家高新技术产品出口基地", HT, HT_2001),
    ("420100", "武汉国家高新技术产品出口基地", HT, HT_2001),
    ("440100", "广州国家高新技术产品出口基地", HT, HT_2001),
    ("440600", "佛山国家高新技术产品出口基地", HT, HT_2002),
    ("440400", "珠海国家高新技术产品出口基地", HT, HT_2002),
    ("440300", "深圳国家高新技术产品出口基地", HT, HT_2001),
    ("500000", "重庆国家高新技术产品出口基地", HT, HT_2002),
    ("510700", "绵阳国家高新技术产品出口基地", HT, HT_2002),
    ("610000", "西安国家软件出口基地", SW, SW_2003),
]
# …and one that lost its designation before 2006: the register keeps it, revoked
REVOKED_2006 = ("370000", "烟台国家高新技术产品出口基地", HT, HT_2002, "2005-12-20")

# Main export products shown on each case, by its field (new base) or its base's type
PRODUCTS = {
    "information": ("光通信设备", "集成电路"), "software": ("软件外包服务", "嵌入式软件"),
    "pharmaceuticals": ("化学原料药", "现代中药"), "new_materials": ("稀土永磁材料", "特种合金"),
    "fine_chemicals": ("医药中间体", "高性能涂料"), "marine": ("海洋工程装备", "船舶配套设备"),
    "aerospace": ("航空零部件", "卫星导航设备"), "hightech": ("电子信息产品", "机电一体化设备"),
    "pharmaceutical": ("化学原料药", "生物制品"),
}

# Reference statistics (national high-tech export growth; regions' export growth), %.
REFERENCES = {
    2003: ("1103", "62.7", {"east": "34.6", "central": "30.2", "west": "29.8", "northeast": "25.1"}),
    2004: ("1655", "50.2", {"east": "35.2", "central": "40.1", "west": "38.3", "northeast": "30.4"}),
    2005: ("2182", "31.8", {"east": "28.1", "central": "25.3", "west": "24.2", "northeast": "26.0"}),
}

# Each demo province's own foreign-trade export growth, % (本地区外贸出口增幅 of 002
# §六(二)(3)): criterion (3) compares a case with its own locality's figure, not with a
# macro-region's. Plausible figures for 2003–2005, invented for the demo (each source says so).
LOCALITY_GROWTH: dict[str, tuple[str, str, str]] = {
    "110000": ("24.6", "37.5", "25.4"), "120000": ("27.9", "38.6", "29.2"),
    "140000": ("40.3", "62.4", "23.5"), "210000": ("22.8", "31.9", "25.8"),
    "210200": ("19.6", "28.4", "23.1"), "220000": ("18.7", "36.2", "32.8"),
    "230000": ("41.4", "33.8", "66.3"), "310000": ("48.6", "51.2", "23.6"),
    "320000": ("72.6", "55.3", "39.8"), "330000": ("41.7", "38.9", "32.0"),
    "340000": ("36.5", "34.2", "30.1"), "350000": ("25.4", "33.5", "22.8"),
    "360000": ("39.7", "30.1", "33.2"), "370000": ("26.8", "35.4", "30.7"),
    "370200": ("25.1", "31.2", "28.4"), "410000": ("31.6", "64.9", "26.2"),
    "420000": ("29.0", "22.1", "33.7"), "430000": ("22.7", "24.8", "39.1"),
    "440000": ("27.9", "26.1", "24.2"), "440300": ("29.9", "28.0", "24.4"),
    "450000": ("30.2", "37.3", "20.1"), "500000": ("29.8", "31.7", "36.6"),
    "510000": ("36.5", "42.8", "39.0"), "520000": ("37.9", "15.8", "16.1"),
    "530000": ("25.4", "33.2", "18.4"), "610000": ("20.8", "25.9", "30.3"),
    "620000": ("34.7", "25.2", "37.4"), "660000": ("45.1", "38.2", "35.6"),
}
LOCALITY_SOURCE = "{name}统计局《{year}年国民经济和社会发展统计公报》（演示数据）"

# The demo's industry clusters (002 §六: central and western regions only) with their
# leading enterprises and each one's national export rank in its industry (002 §六(二)(4)):
# name, city (its code, as the form's list of the province's cities stores it), industry,
# rank, exports (万美元). Wuhan's bureau prepared the first (its leading enterprise's city);
# Hubei itself the provincial leading enterprise's (002 §六(三)).
CLUSTERS: dict[str, list[tuple[str, str, str, int, str]]] = {
    "武汉光谷光电子信息产业集群": [
        ("烽火通信科技股份有限公司", "420100", "光通信设备", 2, "21000"),
        ("长飞光纤光缆有限公司", "420100", "光纤光缆", 1, "16500"),
        ("武汉华工科技产业股份有限公司", "420100", "激光加工设备", 3, "5200")],
    "湖北光通信产业集群（省级龙头企业）": [
        ("武汉邮电科学研究院", "420100", "光通信设备", 2, "3800")],
    "攀枝花新材料出口创新基地": [
        ("攀钢集团有限公司", "510400", "钒钛制品", 1, "4100"),
        ("攀枝花钢城集团有限公司", "510400", "钒钛配套加工", 6, "600")],
}

# What the province states of a new base's rank in its locality at its review (002
# §六(二)(2) 在本地区位居前列): rank, how many ranked, catalogue. Xi'an was declined for it.
RANKS: dict[str, tuple[int, int, str]] = {"西安航空航天出口创新基地": (6, 10, "national")}
DEFAULT_RANK = (1, 12, "national")

MAIN = {"440000": "guangdong", "420000": "hubei", "510000": "sichuan", "210000": "liaoning",
        "430000": "hunan"}

# The city tier (GB/T 2260): code -> (name, English name, province, own region, account slug)
CITIES: dict[str, tuple[str, str, str, Region | None, str]] = {
    "420100": ("武汉市", "Wuhan", "420000", None, "wuhan"),
    "420500": ("宜昌市", "Yichang", "420000", None, "yichang"),
    "420600": ("襄阳市", "Xiangyang", "420000", None, "xiangyang"),
    # a western-development prefecture inside central Hubei: West for the thresholds
    "422800": ("恩施土家族苗族自治州", "Enshi", "420000", Region.WEST, "enshi"),
    "440100": ("广州市", "Guangzhou", "440000", None, "guangzhou"),
    "440400": ("珠海市", "Zhuhai", "440000", None, "zhuhai"),
    "440600": ("佛山市", "Foshan", "440000", None, "foshan"),
    "441900": ("东莞市", "Dongguan", "440000", None, "dongguan"),
    "510100": ("成都市", "Chengdu", "510000", None, "chengdu"),
    "510400": ("攀枝花市", "Panzhihua", "510000", None, "panzhihua"),
    "510600": ("德阳市", "Deyang", "510000", None, "deyang"),
    "510700": ("绵阳市", "Mianyang", "510000", None, "mianyang"),
}

# authority, kind, name, high-tech exports (亿美元), growth % (prev2, prev1, cur), path,
# and the field of a new base (002 §五(二)); a re-certification names its base in the
# register by its name, and takes its type from there
APPS: list[tuple[str, str, str, str, tuple[str, str, str], str, str]] = [
    ("420100", "new_base", "武汉光谷光电子信息产业集群", "8.6", ("55", "60", "48"), "approved", "information"),
    ("420100", "recertification", "武汉国家高新技术产品出口基地", "12.3", ("40", "35", "30"), "re_evaluated", ""),
    ("430000", "new_base", "长沙先进电池材料出口创新基地", "0.5", ("70", "65", "50"), "publicly_shown", "new_materials"),
    ("510100", "new_base", "成都软件与信息服务出口基地", "3.2", ("80", "60", "45"), "approved", "software"),
    ("510700", "recertification", "绵阳国家高新技术产品出口基地", "1.9", ("30", "28", "20"), "recommended", ""),
    ("210000", "new_base", "沈阳航空制造出口创新基地", "2.4", ("35", "40", "30"), "recommended", "aerospace"),
    ("210200", "recertification", "大连国家软件出口基地", "6.1", ("45", "40", "35"), "approved", ""),
    ("440100", "recertification", "广州国家高新技术产品出口基地", "85.0", ("40", "38", "30"), "approved", ""),
    ("441900", "new_base", "东莞电子信息出口创新基地", "40.2", ("50", "45", "35"), "provincially_reviewed", "information"),
    ("440600", "recertification", "佛山国家高新技术产品出口基地", "9.8", ("25", "30", "22"), "drafted", ""),
    ("320000", "recertification", "苏州国家高新技术产品出口基地", "120.5", ("60", "50", "40"), "publicly_shown", ""),
    ("330000", "recertification", "杭州国家软件出口基地", "4.4", ("20", "18", "15"), "rectifying", ""),
    ("310000", "recertification", "上海国家医药出口基地", "15.0", ("30", "35", "28"), "re_evaluated", ""),
    ("610000", "new_base", "西安航空航天出口创新基地", "0.8", ("20", "15", "10"), "declined", "aerospace"),
    ("500000", "new_base", "重庆精细化工出口创新基地", "0.3", ("25", "20", "18"), "rejected", "fine_chemicals"),
    ("410000", "new_base", "郑州新材料出口创新基地", "0.6", ("45", "50", "40"), "returned", "new_materials"),
    ("340000", "new_base", "合肥信息产业出口创新基地", "0.9", ("50", "45", "40"), "withdrawn", "information"),
    ("360000", "new_base", "南昌医药出口创新基地", "0.55", ("60", "55", "50"), "objection_upheld", "pharmaceuticals"),
    ("530000", "new_base", "昆明生物医药出口创新基地", "0.0999", ("40", "42", "35"), "provincially_reviewed", "pharmaceuticals"),
    ("450000", "new_base", "南宁海洋产业出口创新基地", "0.2", ("10", "12", "8"), "drafted", "marine"),
    ("660000", "new_base", "石河子精细化工出口创新基地", "0.12", ("70", "80", "60"), "recommended", "fine_chemicals"),
    ("220000", "new_base", "长春光电子出口创新基地", "0.7", ("30", "35", "28"), "provincially_reviewed", "information"),
    ("230000", "new_base", "哈尔滨新材料出口创新基地", "0.52", ("60", "58", "45"), "revoked", "new_materials"),
    ("370000", "recertification", "济南国家软件出口基地", "3.6", ("35", "30", "25"), "approved", ""),
    ("110000", "recertification", "中关村国家高新技术产品出口基地", "150.0", ("45", "40", "30"), "approved", ""),
    ("120000", "recertification", "天津国家医药出口基地", "5.5", ("30", "25", "20"), "re_evaluated", ""),
    ("350000", "recertification", "福州国家软件出口基地", "1.2", ("30", "30", "25"), "provincially_reviewed", ""),
    ("370200", "recertification", "青岛国家高新技术产品出口基地", "20.1", ("30", "28", "26"), "drafted", ""),
    ("440300", "recertification", "深圳国家高新技术产品出口基地", "300.0", ("50", "40", "35"), "approved", ""),
    ("620000", "new_base", "兰州新材料出口创新基地", "0.15", ("20", "25", "22"), "drafted", "new_materials"),
    ("520000", "new_base", "贵阳航空航天出口创新基地", "0.25", ("45", "50", "40"), "publicly_shown", "aerospace"),
    ("140000", "new_base", "太原新材料出口创新基地", "0.4", ("35", "33", "30"), "provincially_reviewed", "new_materials"),
]

# The path each target state takes, as triggers (with reasons where required).
PATHS: dict[str, list[str]] = {
    "drafted": [],
    "provincially_reviewed": ["submit"],
    "recommended": ["submit", "recommend"],
    "publicly_shown": ["submit", "recommend", "publish_notice"],
    "approved": ["submit", "recommend", "publish_notice", "approve"],
    "re_evaluated": ["submit", "recommend", "publish_notice", "approve", "keep_designation"],
    "rectifying": ["submit", "recommend", "publish_notice", "approve", "order_rectification"],
    "revoked": ["submit", "recommend", "publish_notice", "approve", "revoke"],
    "declined": ["submit", "decline"],
    "rejected": ["submit", "recommend", "reject"],
    "returned": ["submit", "return_for_revision"],
    "withdrawn": ["submit", "withdraw"],
    "objection_upheld": ["submit", "recommend", "publish_notice", "uphold_objection"],
}
WHEN = {
    "submit": datetime(2006, 4, 3, 2, 0, tzinfo=UTC),
    "withdraw": datetime(2006, 4, 6, 2, 0, tzinfo=UTC),
    "return_for_revision": datetime(2006, 4, 10, 2, 0, tzinfo=UTC),
    "decline": datetime(2006, 4, 12, 2, 0, tzinfo=UTC),
    "recommend": datetime(2006, 4, 20, 2, 0, tzinfo=UTC),
    "publish_notice": datetime(2006, 4, 28, 2, 0, tzinfo=UTC),
    "reject": datetime(2006, 5, 12, 2, 0, tzinfo=UTC),
    "uphold_objection": datetime(2006, 5, 9, 2, 0, tzinfo=UTC),
    "approve": datetime(2006, 5, 15, 2, 0, tzinfo=UTC),
    "keep_designation": datetime(2007, 1, 15, 2, 0, tzinfo=UTC),
    "order_rectification": datetime(2007, 1, 15, 2, 0, tzinfo=UTC),
    "revoke": datetime(2007, 1, 16, 2, 0, tzinfo=UTC),
}
REASONS = {
    "withdraw": "申报材料需重新整理，暂不申报",
    "return_for_revision": "出口数据口径与统计目录不一致，请按《高新技术产品出口统计目录》修正后重新提交",
    "decline": "高新技术产品出口额未位居本地区前列，本年度不予推荐",
    "reject": "发展方案缺少可量化的出口目标，不予核准",
    "uphold_objection": "经核查，异议所述主要出口产品数据重复计算属实",
    "order_rectification": "2006年度工作报告未按时报送，季度数据缺失两期",
    "revoke": "整改期满仍未达到认定条件",
}

# the reasons the demo's reviewers give for going on with a case that fails a criterion
# (002 §六), and for a step after the round's deadline (002 §六(三))
OVERRIDES = {
    "recommend": "与门槛差距很小，且为本省唯一的软件与服务外包产业集聚区，建议推荐",
    "publish_notice": "省级推荐理由充分，公示听取各方意见",
    "approve": "公示期内无异议，同意省级推荐意见",
}
LATE = {
    "recommend": "省内专家评审会延期召开",
    "approve": "公示期间补充核查出口数据",
}


def _slug(code: str) -> str:
    from workflow.regions import BY_CODE

    if code in CITIES:
        return CITIES[code][4]
    return MAIN.get(code) or BY_CODE[code].name_en.lower().split()[0]


def _province(code: str) -> str:
    """A city's province-level authority (its reviewers), else the authority itself."""
    return CITIES[code][2] if code in CITIES else code


def _user(s: Any, username: str, name: str, role: Role, authority: AuthorityRow | None,
          password_hash: str, is_head: bool = False) -> None:
    if users_repo.user_by_username(s, username) is not None:
        return
    s.add(UserRow(username=username, display_name=name, email=f"{username}@example.gov.cn",
                  role=role.value, authority_id=authority.id if authority else None,
                  is_head=is_head, password_hash=password_hash,
                  password_changed_at=datetime.now(UTC)))


def seed(uow: UnitOfWork, settings: Settings, upload_dir: Path | None = None) -> bool:
    """Load the demo data unless it is there already; True if it loaded it. Its files go
    to `upload_dir` (default: the settings' UPLOAD_DIR), within their MAX_UPLOAD_MB."""
    upload_dir = upload_dir or settings.upload_dir
    with uow:
        loaded = uow.session.get(SettingRow, MARKER) is not None
    if loaded:
        _register(uow)  # a demo loaded before the register of bases gets it now
        _localities(uow)  # …and before the localities' own statistics, those
        return False
    with uow:
        s = uow.session
        by_code = _authorities(s)
        _round_2006_and_references(s)
        _accounts(s, by_code)
        ids = users_repo.user_ids(s)
        existing = cases_repo.applicant_names(s)
        uow.commit()
    _register(uow)
    _localities(uow)
    max_bytes = settings.max_upload_mb * 1024 * 1024
    for code, kind, name, hightech, growth, target, industry in APPS:
        if name not in existing:  # a run cut short resumes where it stopped
            _make_case(uow, ids, code, kind, name, hightech, growth, target, upload_dir,
                       max_bytes, industry=industry)
    _live(uow, ids, existing, upload_dir, max_bytes)
    with uow:
        uow.session.add(SettingRow(key=MARKER, value={"at": datetime.now(UTC).isoformat()}))
        uow.commit()
    return True


def _authorities(s: DbSession) -> dict[str, AuthorityRow]:
    """The provinces (and the like) and the demo's cities, each once; all by code."""
    by_code = authorities_repo.authorities_by_code(s)
    for a in AUTHORITIES:
        if a.code not in by_code:
            row = AuthorityRow(code=a.code, name_zh=a.name_zh, name_en=a.name_en,
                               region=a.region.value, kind=a.kind)
            s.add(row)
            by_code[a.code] = row
    s.flush()
    for code, (name, name_en, parent, own, _) in CITIES.items():
        if code not in by_code:
            by_code[code] = authorities_repo.add_city(
                s, City(code, name, name_en, parent, own), by_code[parent])
    return by_code


def _round_2006_and_references(s: DbSession) -> None:
    """The 2006 round and the reference statistics its criteria compare with, once."""
    if rounds_repo.round_by_year(s, 2006) is None:
        # opened with notice 002 (28 February 2006), closed with the year: its bases
        # report on
        s.add(RoundRow(year=2006, name_zh="2006年度出口创新基地申报",
                       name_en="2006 export innovation base round",
                       params=RoundRules.for_year(2006).to_json(),
                       opened_on=date(2006, 2, 28), closed_on=date(2006, 12, 31)))
    known = reference_repo.reference_years(s)
    for year, (exports, national, regions) in REFERENCES.items():
        if year in known:
            continue
        s.add(ReferenceStatRow(year=year, national_hightech_exports_100m_usd=Decimal(exports),
                               national_hightech_growth_pct=Decimal(national),
                               region_export_growth_pct=regions))
    s.flush()


def _accounts(s: DbSession, by_code: dict[str, AuthorityRow]) -> None:
    """Every demo account (their password: DEMO_PASSWORD), each once."""
    h = hash_password(DEMO_PASSWORD)  # one hash: every demo account has this password
    _user(s, "mofcom_reviewer", "王审核（商务部科技司）", Role.MINISTRY_REVIEWER, None, h)
    _user(s, "mofcom_reviewer2", "李核准（商务部科技司）", Role.MINISTRY_REVIEWER, None, h)
    _user(s, "mofcom_head", "赵司长（商务部科技司）", Role.MINISTRY_REVIEWER, None, h,
          is_head=True)
    _user(s, "sysadmin", "系统管理员", Role.SYSTEM_ADMIN, None, h)
    _user(s, "secadmin", "安全管理员", Role.SECURITY_ADMIN, None, h)
    _user(s, "auditor", "审计管理员", Role.AUDITOR, None, h)
    codes = sorted({_province(a[0]) for a in APPS} | {_province(a[0]) for a in LIVE}
                   | set(MAIN))
    for code in codes:
        auth = by_code[code]
        slug = _slug(code)
        _user(s, f"{slug}_applicant", f"{auth.name_zh}申报单位", Role.APPLICANT, auth, h)
        _user(s, f"{slug}_reviewer", f"{auth.name_zh}商务厅审核员", Role.PROVINCIAL_REVIEWER,
              auth, h)
        _user(s, f"{slug}_head", f"{auth.name_zh}商务厅处长", Role.PROVINCIAL_REVIEWER, auth,
              h, is_head=True)
    for code, (name, _, _, _, slug) in CITIES.items():
        _user(s, f"{slug}_applicant", f"{name}商务局", Role.APPLICANT, by_code[code], h)
    for code in GD_CITIES:  # the bureaux applying for their enterprises (004 (七))
        name, slug = CITIES[code][0], CITIES[code][4]
        _user(s, f"guangdong_city_{slug}", f"{name}商务局（机电产品出口基地企业）",
              Role.APPLICANT, by_code[code], h)
    s.flush()


def register_sheet() -> list[list[Any]]:
    """The demo's register of national bases as the ministry's sheet would have it."""
    heading = [c.zh for c in COLUMNS]
    rows: list[list[Any]] = [heading]
    for code, name, kind, (document, day) in REGISTER_2006:
        rows.append([code, name, kind, document, day, "已认定", None, DEMO_NOTE])
    code, name, kind, (document, day), revoked = REVOKED_2006
    rows.append([code, name, kind, document, day, "已撤销", revoked, DEMO_NOTE])
    return rows


def _register(uow: UnitOfWork) -> None:
    """Import the national bases of 2006 (once) as the ministry reviewer, and let the
    re-certifications of a demo loaded before the register name their bases."""
    with uow:
        s = uow.session
        importer = users_repo.user_by_username(s, "mofcom_reviewer")
        if importer is None or register_repo.entries(s, base_type="hightech"):
            return
        importer_id = importer.id
    bases.import_rows(uow, importer_id, register_sheet(), real_utcnow(), filename="demo")
    with uow:
        s = uow.session
        named = {(b.authority_id, b.name): b for b in register_repo.entries(s)
                 if b.application_id is None}
        for app in register_repo.recertifications_naming_no_base(s):
            base = named.get((app.authority_id, app.applicant_name or ""))
            if base is not None:
                app.existing_base_id, app.existing_base_type = base.id, base.base_type
                entered = register_repo.entry_of_case(s, app.id)
                if entered is not None:  # approved already: it re-certified that base
                    entered.recertifies_id = base.id
        uow.commit()


def _base_named(uow: UnitOfWork, code: str, name: str) -> ExportBaseRow:
    with uow.read():
        return next(b for b in register_repo.entries(uow.session, authority_code=code)
                    if b.name == name and b.application_id is None)


def _make_case(uow: UnitOfWork, ids: dict[str, int], code: str, kind: str, name: str,
               hightech: str, growth: tuple[str, str, str], target: str, upload_dir: Path,
               max_bytes: int, *, year: int = 2006, when: dict[str, datetime] | None = None,
               draft_time: datetime | None = None, industry: str = "") -> int:
    """A demo case drafted, given its files and walked along PATHS[target] by its people."""
    slug = _slug(code)
    applicant, reviewer = ids[f"{slug}_applicant"], ids[f"{_slug(_province(code))}_reviewer"]
    when = when or WHEN
    draft_time = draft_time or datetime(2006, 3, 10, 2, 0, tzinfo=UTC)
    data = _case_data(uow, code, kind, name, hightech, growth, year, draft_time, industry)
    app_id = cases.create_draft(uow, applicant, data, now=draft_time)
    path = PATHS[target]
    if path:
        for kind_ in ("application_form", "development_plan"):
            files.attach(uow, applicant, app_id, kind_, f"{kind_}.pdf", PDF, upload_dir,
                         max_bytes, now=draft_time + timedelta(days=1))
    attest: dict[str, bool | None] = ({"local_policy": True, "leading_enterprises": True} if kind == "new_base" else
              {"supporting_policies": True, "project_funding": True,
               "characteristic_industry": True})
    for trigger in path:
        now = when[trigger]
        actor = {"submit": applicant, "withdraw": applicant, "return_for_revision": reviewer,
                 "decline": reviewer, "recommend": reviewer}.get(
            trigger, ids["mofcom_reviewer2"] if trigger == "approve" else ids["mofcom_reviewer"])
        if trigger in ("recommend", "decline") and kind == "new_base":
            _state_rank(uow, reviewer, app_id, name, code, now)
        if trigger == "recommend":
            loaded = cases.load(uow, reviewer, app_id, now=now)
            cases.set_attestations(uow, reviewer, app_id, attest, loaded.row.version)
            files.attach(uow, reviewer, app_id, "recommendation_letter", "推荐文件.pdf", PDF,
                         upload_dir, max_bytes, now=now)
        if trigger == "uphold_objection":
            objections.file_objection(uow, app_id, "陈群众", "chen@example.com",
                                      "主要出口产品数据与海关统计不符，存在重复计算。",
                                      ip="203.0.113.9", now=now - timedelta(days=1))
            obj = objections.open_for(uow, app_id)[0]
            objections.uphold(uow, ids["mofcom_reviewer"], obj.id, REASONS[trigger], None,
                              now=now)
            continue
        deadline = date(2007, 7, 31) if trigger == "order_rectification" else None
        # a reviewer going on with a case that fails a criterion says why (002 §六); the
        # reason is recorded only where a criterion fails or a deadline has passed
        cases.fire(uow, actor, app_id, trigger, None, reason=REASONS.get(trigger), now=now,
                   deadline=deadline, override_reason=OVERRIDES.get(trigger),
                   late_reason=LATE.get(trigger))
    return app_id


def _case_data(uow: UnitOfWork, code: str, kind: str, name: str, hightech: str,
               growth: tuple[str, str, str], year: int, draft_time: datetime,
               industry: str) -> dict[str, Any]:
    """The application form of a demo case, its figures scaled from its high-tech exports."""
    slug = _slug(code)
    ht = Decimal(hightech)
    base = _base_named(uow, code, name) if kind == "recertification" else None
    products = PRODUCTS[base.base_type if base is not None else industry]
    data: dict[str, Any] = {
        "kind": kind, "round_year": year,
        "industry_field": industry if kind == "new_base" else None,
        "existing_base_id": base.id if base is not None else None,
        "existing_base_type": base.base_type if base is not None else None,
        "applicant_name": name, "contact_person": "张明", "contact_phone": "027-87654321",
        "contact_email": f"{slug}@example.gov.cn",
        "filled_on": local_date(draft_time).isoformat(),
        "address": f"{name}管理委员会", "characteristic_industry": name[:-4] or name,
        "enterprise_count": 120, "total_sales_100m_cny": str((ht * 18).quantize(Decimal("0.01"))),
        "total_assets_10k_cny": str(ht * 250000), "exports_100m_usd": str(ht * 2),
        "export_growth_pct": "25.4", "profit_tax_10k_cny": str(ht * 9000),
        "hightech_exports_100m_usd": hightech, "hightech_export_growth_pct": growth[2],
        "hightech_export_growth_pct_prev1": growth[1],
        "hightech_export_growth_pct_prev2": growth[0], "employees": 35000,
        "products": [{"name": products[0], "exports_10k_usd": str(ht * 3000)},
                     {"name": products[1], "exports_10k_usd": str(ht * 2000)}],
    }
    if name in CLUSTERS:  # 002 §六, §六(二)(4)
        data["applicant_type"] = "cluster"
        data["leading_enterprises"] = [
            {"name": n, "city": c, "industry": i, "national_rank": r, "exports_10k_usd": e}
            for n, c, i, r, e in CLUSTERS[name]]
    return data


def _state_rank(uow: UnitOfWork, reviewer: int, app_id: int, name: str, code: str,
                now: datetime) -> None:
    """The province states the applicant's rank in its locality (002 §六(二)(2))."""
    from workflow.regions import BY_CODE

    rank, of, catalogue = RANKS.get(name, DEFAULT_RANK)
    province = BY_CODE[_province(code)].name_zh
    version = cases.load(uow, reviewer, app_id, now=now).row.version
    cases.set_review_fields(uow, reviewer, app_id, {
        "locality_rank": rank, "locality_peers": of, "rank_catalogue": catalogue,
        "rank_source": f"{province}商务厅据海关统计排名（演示数据）"}, version)


def _localities(uow: UnitOfWork) -> None:
    """Each demo province's own export growth of 2003–2005 (once), entered as the ministry
    would enter it: criterion (3) then uses the applicant's own locality's figure."""
    from workflow.services import reports
    from workflow.storage import reports_repo

    with uow:
        s = uow.session
        ministry = users_repo.user_by_username(s, "mofcom_reviewer")
        if ministry is None or reports_repo.locality_rows(s):
            return
        names = {a.code: a.name_zh for a in AUTHORITIES}
        ministry_id = ministry.id
    rows = [{"authority": code, "year": year, "export_growth_pct": pct,
             "source": LOCALITY_SOURCE.format(name=names[code], year=year),
             "catalogue": "national"}
            for code, pcts in LOCALITY_GROWTH.items()
            for year, pct in zip((2003, 2004, 2005), pcts, strict=True)]
    reports.save_locality_stats(uow, ministry_id, rows, real_utcnow())


# --- the present: a round running now, and the 2006 bases' duties up to today ------------

# authority, kind, name, high-tech exports (亿美元), growth %, target state, field
LIVE: list[tuple[str, str, str, str, tuple[str, str, str], str, str]] = [
    ("420600", "new_base", "襄阳汽车新材料出口创新基地", "0.9", ("38", "42", "36"), "drafted", "new_materials"),
    # the province itself preparing a provincial leading enterprise's materials (002 §六(三))
    ("420000", "new_base", "湖北光通信产业集群（省级龙头企业）", "0.85", ("36", "40", "35"), "drafted", "information"),
    # US$12M: enough in the West (恩施州's class), not in central Hubei (002 §六(二)(2))
    ("422800", "new_base", "恩施富硒生物医药出口创新基地", "0.12", ("30", "35", "32"), "drafted", "pharmaceuticals"),
    ("410000", "new_base", "洛阳新材料出口创新基地", "0.7", ("30", "33", "29"), "drafted", "new_materials"),
    ("450000", "new_base", "柳州海洋装备出口创新基地", "0.3", ("25", "28", "22"), "drafted", "marine"),
    ("340000", "new_base", "芜湖精细化工出口创新基地", "0.8", ("35", "31", "30"), "provincially_reviewed", "fine_chemicals"),
    ("220000", "new_base", "吉林医药出口创新基地", "0.6", ("28", "30", "27"), "provincially_reviewed", "pharmaceuticals"),
    ("420500", "new_base", "宜昌生物医药出口创新基地", "0.65", ("33", "35", "31"), "provincially_reviewed", "pharmaceuticals"),
    ("440400", "recertification", "珠海国家高新技术产品出口基地", "12.0", ("22", "25", "20"), "provincially_reviewed", ""),
    ("210000", "new_base", "鞍山新材料出口创新基地", "0.55", ("29", "31", "27"), "provincially_reviewed", "new_materials"),
    ("510400", "new_base", "攀枝花新材料出口创新基地", "0.2", ("26", "24", "21"), "provincially_reviewed", "new_materials"),
    ("430000", "new_base", "株洲硬质合金新材料出口创新基地", "0.75", ("45", "40", "38"), "recommended", "new_materials"),
    ("510600", "new_base", "德阳航空航天出口创新基地", "0.4", ("40", "36", "33"), "publicly_shown", "aerospace"),
]
LATE_BASE = "成都软件与信息服务出口基地"  # its last quarter is overdue
RECTIFYING_BASE = "杭州国家软件出口基地"  # its rectification deadline has just passed


def _live(uow: UnitOfWork, ids: dict[str, int], existing: set[str], upload_dir: Path,
          max_bytes: int) -> None:
    """The part of the demo dated relative to today (the machine's clock: `APP_NOW` only
    moves the domain's clock, for walking the 2006 round)."""
    now = real_utcnow()
    today = local_date(now)
    with uow:
        cal = reference_repo.load_calendar(uow.session)
    if _round_missing(uow, today.year):
        _open_current_round(uow, today, cal)
    back = {n: _at(cal.working_days_before(today, n)) for n in (1, 2, 5, 8, 12)}
    when = {"submit": back[8], "recommend": back[5], "publish_notice": back[2]}
    for code, kind, name, ht, growth, target, industry in LIVE:
        if name not in existing:
            _make_case(uow, ids, code, kind, name, ht, growth, target, upload_dir, max_bytes,
                       year=today.year, when=when, draft_time=back[12], industry=industry)
    _guangdong(uow, ids, existing, today, cal, back, upload_dir, max_bytes)
    _base_duties(uow, ids, existing, today, cal)


# --- a province's own programme on the same engine: Guangdong's export base enterprises for
# mechanical and electrical products (seed 004 (七); programmes/guangdong-2006-59.toml)
GUANGDONG = "guangdong-2006-59"
GD_CITIES = ("440100", "440400", "440600", "441900")
# city, enterprise, exports, M&E exports, own-brand exports (万美元), own-brand share %,
# ISO 9000, ISO 14000, export credit grade, R&D centre, target state
GD_CASES: list[tuple[str, str, str, str, str, str, bool, bool, str, bool, str]] = [
    ("440100", "广州珠江机电出口有限公司", "8600", "7200", "2100", "29.17", True, True, "AA",
     True, "enterprise_designated"),
    # short of the own-brand share and without ISO 14000: the reviewer sees why
    ("441900", "东莞精密模具出口有限公司", "5200", "4800", "600", "12.5", True, False, "A",
     True, "provincially_reviewed"),
    ("440600", "佛山顺德小家电出口有限公司", "6400", "6100", "1900", "31.15", True, True, "AAA",
     False, "provincially_reviewed"),
    ("440400", "珠海打印耗材出口有限公司", "3100", "2900", "900", "31.03", True, True, "A",
     True, "drafted"),
]


def _guangdong(uow: UnitOfWork, ids: dict[str, int], existing: set[str], today: date,
               cal: WorkCalendar, back: dict[int, datetime], upload_dir: Path,
               max_bytes: int) -> None:
    """Guangdong's round of its own programme, opened by the province three weeks ago:
    enterprises' applications from the cities' bureaux — one designated, two with the
    province, one still a draft."""
    _open_guangdong_round(uow, today, cal)
    reviewer = ids["guangdong_reviewer"]
    for (code, name, exports, me, brand, share, iso9000, iso14000, credit, rd,
         target) in GD_CASES:
        if name in existing:
            continue
        applicant = ids[f"guangdong_city_{CITIES[code][4]}"]
        data: dict[str, Any] = {
            "programme": GUANGDONG, "round_year": today.year, "kind": "enterprise",
            "applicant_name": name,
            "credit_code": f"9144{code}MA{zlib.crc32(name.encode()) % 10**6:06d}",
            "contact_person": "陈经理", "contact_phone": "020-83331234",
            "main_products": "家用电器、电机及零部件", "exports_10k_usd": exports,
            "me_exports_10k_usd": me, "own_brand_exports_10k_usd": brand,
            "own_brand_share_pct": share, "iso9000": iso9000, "iso14000": iso14000,
            "export_credit_grade": credit, "rd_centre": rd}
        app_id = cases.create_draft(uow, applicant, data, now=back[12])
        if target == "drafted":
            continue
        # what the programme needs to submit ([[attachments]] of its file)
        for kind_, file_name in (("business_licence", "营业执照.pdf"),
                                 ("city_recommendation_letter", "推荐函.pdf")):
            files.attach(uow, applicant, app_id, kind_, file_name, PDF, upload_dir, max_bytes,
                         now=back[12] + timedelta(hours=1))
        cases.fire(uow, applicant, app_id, "submit", None, now=back[8])
        if target == "enterprise_designated":
            loaded = cases.load(uow, reviewer, app_id, now=back[5])
            cases.set_attestations(uow, reviewer, app_id, {"city_recommendation": True},
                                   loaded.row.version)
            cases.fire(uow, reviewer, app_id, "designate_enterprise", None, now=back[2])


def _open_guangdong_round(uow: UnitOfWork, today: date, cal: WorkCalendar) -> None:
    """This year's round of Guangdong's programme (once), opened three weeks ago."""
    from workflow.programme import current_source, digest, programme

    with uow:
        s = uow.session
        if rounds_repo.round_by_year(s, today.year, GUANGDONG) is not None:
            return
        rules = replace(programme(GUANGDONG).round_rules(today.year),  # its [rounds]
                        submission_deadline=cal.add_working_days(today, 10),
                        approval_deadline=cal.add_working_days(today, 25))
        source = current_source(GUANGDONG)
        s.add(RoundRow(year=today.year, programme=GUANGDONG, params=rules.to_json(),
                       name_zh=f"{today.year}年度广东省机电产品出口基地企业认定",
                       name_en=f"{today.year} Guangdong M&E export base enterprises",
                       opened_on=today - timedelta(days=21), programme_source=source,
                       programme_hash=digest(source)))
        uow.commit()


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA).astimezone(UTC)


def _round_missing(uow: UnitOfWork, year: int) -> bool:
    with uow:
        return rounds_repo.round_by_year(uow.session, year) is None


def _open_current_round(uow: UnitOfWork, today: date, cal: WorkCalendar) -> None:
    """This year's round, its dates relative to today: drafts due with the province in a
    week, recommendations to the ministry in 15 working days, approval in 30."""
    rules = replace(RoundRules.for_year(today.year),
                    provincial_internal_deadline=today + timedelta(days=7),
                    submission_deadline=cal.add_working_days(today, 15),
                    approval_deadline=cal.add_working_days(today, 30))
    with uow:
        uow.session.add(RoundRow(year=today.year, name_zh=f"{today.year}年度出口创新基地申报",
                                 name_en=f"{today.year} export innovation base round",
                                 params=rules.to_json(), opened_on=today - timedelta(days=30)))
        uow.commit()


def _base_duties(uow: UnitOfWork, ids: dict[str, int], existing: set[str], today: date,
                 cal: WorkCalendar) -> None:
    """The 2006 bases' quarterly data and annual reports up to today (one base's last
    quarter late), and a rectification whose deadline passed two working days ago."""
    if RECTIFYING_BASE in existing:
        return  # loaded before: a demo is loaded once
    with uow:
        s = uow.session
        historical = {a[2] for a in APPS}
        bases = [r for r in cases_repo.designated_bases(s) if r.applicant_name in historical]
        for base in bases:
            _file_reports(s, base, today, cal, late=base.applicant_name == LATE_BASE)
        uow.commit()
        hangzhou = next((b.id for b in bases if b.applicant_name == RECTIFYING_BASE), None)
    if hangzhou is not None:
        ordered = cal.working_days_before(today, 45)
        cases.fire(uow, ids["mofcom_reviewer"], hangzhou, "continue_rectification", None,
                   reason="整改报告显示软件出口统计口径仍未统一，继续限期整改",
                   deadline=cal.working_days_before(today, 2), now=_at(ordered))


def _file_reports(s: Any, base: ApplicationRow, today: date, cal: WorkCalendar,
                  late: bool) -> None:
    approved = date(2006, 5, 15)
    figures = cases_repo.values_of(base)
    quarterly_base = Decimal(figures["hightech_exports_100m_usd"] or 1) * 2500  # 万美元 a quarter
    year, quarter = quarter_of(approved)
    filed = []
    while True:
        due = quarterly_due(year, quarter, RoundRules.for_year(2006), cal)
        if due >= today:
            break
        filed.append((year, quarter, due))
        year, quarter = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
    if late and filed:
        filed.pop()  # the last quarter that fell due: not filed yet
    for y, q, due in filed:
        growth = Decimal("1.08") ** (y - 2006)
        hightech = (quarterly_base * growth).quantize(Decimal("0.01"))
        m, d = QUARTER_END[q]
        s.add(QuarterlyReportRow(
            application_id=base.id, year=y, quarter=q, revision=1, is_current=True,
            figures=quarterly_data.stored_figures({
                quarterly_data.EXPORTS: (hightech * Decimal("1.6")).quantize(Decimal("0.01")),
                quarterly_data.HIGHTECH_EXPORTS: hightech,
                "enterprise_count": figures["enterprise_count"]}),
            enterprises=[], source="form", submitted_by_id=base.owner_id,
            submitted_at=_at(max(date(y, m, d) + timedelta(days=10), due - timedelta(days=3)))))
    for y in range(2006, today.year):
        s.add(AnnualReportRow(
            application_id=base.id, year=y, revision=1, is_current=True,
            summary=f"{y}年度基地建设工作总结：落实配套政策，支持科技兴贸项目。",
            next_year_plan=f"{y + 1}年度工作思路：扩大特色产业出口，完善公共服务平台。",
            policies_in_force=True, project_funding_10k_cny=Decimal(500),
            submitted_by_id=base.owner_id, submitted_at=_at(date(y, 12, 20))))
