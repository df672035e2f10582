"""The tree of authorities: the 37 province-level ones (`workflow.regions`, fixed by 002) and
the prefecture-level cities under a province or an autonomous region, whose commerce
bureaus prepare the materials of a city's or a cluster's application (002 §六(三):
地级市商务主管部门组织申报材料; the provincial programmes of 003 and 004 work city by city).

A city's GB/T 2260 code lies under its province's (420100 under 420000) and ends in 00. Its
region is its province's unless it is classed apart: a western-development prefecture such
as 恩施州 in Hubei is West, and the thresholds of 002 §六(二)(2) follow its class. Quotas
stay the province's (002 §六(三): the provinces recommend).

What a city entry — typed by the system administrator or a row of an uploaded list — must
satisfy is checked here, every row in full before anything is stored. Reading the file is
`workflow.services.authority_import`'s job; this module sees rows of plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workflow.errors import Refusal, refuse
from workflow.regions import Region

# the province-level kinds that have prefecture-level cities under them (the municipalities,
# the 计划单列市 and the XPCC have none)
PARENT_KINDS = frozenset({"province", "autonomous_region"})

KIND_ZH = {
    "province": "省", "municipality": "直辖市", "autonomous_region": "自治区",
    "separately_planned_city": "计划单列市", "xpcc": "新疆生产建设兵团",
    # prefecture-level divisions (地级行政区)
    "prefecture_city": "地级市", "autonomous_prefecture": "自治州", "prefecture": "地区",
    "league": "盟",
}
CITY_KINDS = ("prefecture_city", "autonomous_prefecture", "prefecture", "league")

REGION_WORDS = {**{r.value: r for r in Region}, **{r.zh: r for r in Region}}

NAME_ZH_MAX = 40
NAME_EN_MAX = 80
MAX_ROWS = 2000


def city_kind(name_zh: str) -> str:
    """The kind of prefecture-level division a name says: 自治州, 地区, 盟 or 地级市."""
    for suffix, kind in (("自治州", "autonomous_prefecture"), ("地区", "prefecture"),
                         ("盟", "league")):
        if name_zh.endswith(suffix):
            return kind
    return "prefecture_city"


# the 55 minority nationalities (GB/T 3304): an autonomous prefecture's name is its place
# followed by the nationalities it is autonomous for (恩施 + 土家族苗族 + 自治州)
NATIONALITIES = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
    "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇",
    "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙",
    "鄂伦春", "赫哲", "门巴", "珞巴", "基诺")
# longest first, so that 土家族 is taken whole before 土族 could be
_NATIONALITY_WORDS = sorted([*(n + "族" for n in NATIONALITIES),
                             *(n for n in NATIONALITIES if len(n) > 1)], key=len, reverse=True)


def place_of(name_zh: str) -> str:
    """The place a prefecture-level division's name names, without its kind: 武汉 for
    武汉市, 阿里 for 阿里地区, 锡林郭勒 for 锡林郭勒盟, 恩施 for 恩施土家族苗族自治州 (the
    nationalities dropped too; 伊犁哈萨克自治州 says 哈萨克 without 族). A name that would
    leave fewer than two characters is its own place (沙市 stays 沙市)."""
    for suffix in ("自治州", "地区", "盟", "市"):
        if name_zh.endswith(suffix) and len(name_zh) - len(suffix) >= 2:
            place = name_zh[:-len(suffix)]
            break
    else:
        return name_zh
    while suffix == "自治州":
        word = next((w for w in _NATIONALITY_WORDS
                     if place.endswith(w) and len(place) - len(w) >= 2), None)
        if word is None:
            break
        place = place[:-len(word)]
    return place


def short_names(name_zh: str) -> set[str]:
    """The names a prefecture-level division goes by besides its full name: its place
    (武汉, 恩施, 阿里, 兴安), and an autonomous prefecture's place with 州 (恩施州, 黔东南州,
    西双版纳州) as it is written in practice."""
    place = place_of(name_zh)
    if place == name_zh:
        return set()
    return {place, place + "州"} if city_kind(name_zh) == "autonomous_prefecture" else {place}


@dataclass(frozen=True)
class Known:
    """An authority on file, as the checks see it."""

    code: str
    name_zh: str
    name_en: str
    parent_code: str | None  # None: province-level
    kind: str
    region: Region
    region_overridden: bool = False
    is_active: bool = True


@dataclass(frozen=True)
class City:
    """A checked city entry: its own region, or None to take its province's."""

    code: str
    name_zh: str
    name_en: str
    parent_code: str
    region: Region | None = None

    @property
    def kind(self) -> str:
        return city_kind(self.name_zh)

    def effective_region(self, province_region: Region) -> Region:
        return self.region or province_region

    def differs_from(self, known: Known, province_region: Region) -> bool:
        """Whether storing this entry would change the city on file."""
        return (self.name_zh, self.name_en, self.effective_region(province_region),
                self.region is not None) != (known.name_zh, known.name_en, known.region,
                                             known.region_overridden)


def parse_region(value: Any) -> tuple[Region | None, bool]:
    """(region, ok): blank is None (the province's), else east/central/west/northeast or
    东部/中部/西部/东北."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None, True
    region = REGION_WORDS.get(text.lower()) or REGION_WORDS.get(text)
    return region, region is not None


Where = dict[str, Any]


def _at(field: str, row: int | None) -> Where:
    if row is None:
        return {"field": field, "zh": "", "en": "", "details": {}}
    return {"field": field, "zh": f"第 {row} 行 ", "en": f"row {row}: ",
            "details": {"row": row}}


def _bad(where: Where, code: str, zh: str, en: str, value: Any = None) -> Refusal:
    details = dict(where["details"])
    if value is not None:
        details["value"] = str(value)[:100]
    return refuse(code, where["zh"] + zh, where["en"] + en, field=where["field"],
                  details=details)


def check_city(raw: Mapping[str, Any], known: Mapping[str, Known], *,
               row: int | None = None, editing: str | None = None
               ) -> tuple[City | None, list[Refusal]]:
    """One city entry (code, name_zh, name_en, parent, region) against the tree on file:
    the entry, or every reason it is refused. `editing`: the code of the city being
    changed (its own code is then no clash); a row of a list may name a city on file
    under the same province (it is then brought up to date)."""
    errors: list[Refusal] = []
    code = str(raw.get("code") or "").strip()
    name_zh = str(raw.get("name_zh") or "").strip()
    name_en = str(raw.get("name_en") or "").strip()
    parent_code = str(raw.get("parent") or "").strip()
    region, region_ok = parse_region(raw.get("region"))
    parent = known.get(parent_code)
    if not parent_code:
        errors.append(_bad(_at("parent", row), "required", "上级单位：必填（省级单位代码，如 420000）",
                           "parent: required (a province-level code such as 420000)"))
    elif parent is None or parent.parent_code is not None:
        errors.append(_bad(_at("parent", row), "unknown_parent",
                           f"上级单位 {parent_code[:20]} 不是本系统的省级单位",
                           f"parent {parent_code[:20]} is not a province-level authority",
                           parent_code))
        parent = None
    elif parent.kind not in PARENT_KINDS:
        errors.append(_bad(_at("parent", row), "parent_takes_no_cities",
                           f"{parent.name_zh}下不设地级市（直辖市、计划单列市和兵团直接申报）",
                           f"{parent.name_en} has no prefecture-level cities (municipalities, "
                           "separately planned cities and the XPCC apply themselves)",
                           parent_code))
        parent = None
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        errors.append(_bad(_at("code", row), "invalid_code",
                           "代码应为 6 位 GB/T 2260 行政区划代码（如 420100）",
                           "code must be a 6-digit GB/T 2260 division code (e.g. 420100)",
                           code or None))
    elif not code.endswith("00") or code.endswith("0000"):
        errors.append(_bad(_at("code", row), "not_a_prefecture_code",
                           f"{code} 不是地级行政区代码（应以 00 结尾，且不以 0000 结尾）",
                           f"{code} is not a prefecture-level code (it ends in 00, "
                           "not in 0000)", code))
    elif parent is not None and code[:2] != parent.code[:2]:
        errors.append(_bad(_at("code", row), "code_outside_parent",
                           f"{code} 不在{parent.name_zh}（{parent.code[:2]}）的代码范围内",
                           f"{code} is not under {parent.name_en} ({parent.code[:2]}xxxx)",
                           code))
    elif code != editing and code in known:
        other = known[code]
        if other.parent_code is None:
            errors.append(_bad(_at("code", row), "code_taken",
                               f"{code} 已是省级单位{other.name_zh}的代码",
                               f"{code} is the province-level authority {other.name_en}",
                               code))
        elif editing is not None or row is None:
            errors.append(_bad(_at("code", row), "code_taken",
                               f"代码 {code} 已有单位：{other.name_zh}",
                               f"code {code} is taken by {other.name_en or other.name_zh}",
                               code))
    if not name_zh:
        errors.append(_bad(_at("name_zh", row), "required", "名称：必填", "name: required"))
    elif len(name_zh) > NAME_ZH_MAX or not name_zh.isprintable():
        errors.append(_bad(_at("name_zh", row), "invalid_name",
                           f"名称应为不超过 {NAME_ZH_MAX} 个可见字符",
                           f"the name has at most {NAME_ZH_MAX} printable characters",
                           name_zh))
    if len(name_en) > NAME_EN_MAX or not name_en.isprintable():
        errors.append(_bad(_at("name_en", row), "invalid_name",
                           f"英文名称应为不超过 {NAME_EN_MAX} 个可见字符",
                           f"the English name has at most {NAME_EN_MAX} printable characters",
                           name_en))
    if not region_ok:
        errors.append(_bad(_at("region", row), "invalid_region",
                           "地区应为 东部、中部、西部、东北（或留空，沿用所属省份）",
                           "region must be east, central, west or northeast (or blank: the "
                           "province's)", raw.get("region")))
    if errors:
        return None, errors
    return City(code, name_zh, name_en, parent_code, region), []


# --- a list of cities (an uploaded Excel or CSV) -------------------------------------------

# column headings a list may use, in Chinese or English (the first three are required)
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "代码", "行政区划代码", "区划代码"),
    "name_zh": ("name", "name_zh", "名称", "单位名称", "城市", "城市名称"),
    "parent": ("parent", "parent_code", "上级", "上级代码", "所属省份", "所属省级单位"),
    "name_en": ("name_en", "英文名称"),
    "region": ("region", "地区"),
}
REQUIRED_COLUMNS = ("code", "name_zh", "parent")


def _heading(value: Any) -> str:
    return str(value or "").strip().lower()


def _columns(head: Sequence[Any]) -> tuple[dict[str, int], list[Refusal]]:
    """Which column holds what, from the heading row; every required one missing named."""
    found: dict[str, int] = {}
    for i, cell in enumerate(head):
        for name, words in COLUMNS.items():
            if _heading(cell) in words and name not in found:
                found[name] = i
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    return found, [refuse("missing_column",
                          f"第 1 行（表头）缺少“{COLUMNS[c][1]}”列（可写 {' / '.join(COLUMNS[c])}）",
                          f"row 1 (the headings) has no '{COLUMNS[c][0]}' column (any of "
                          f"{', '.join(COLUMNS[c])})", field=c, details={"row": 1})
                   for c in missing]


def _text(value: Any) -> str:
    """A cell as text: a code typed into Excel as a number comes back as 420100, not 420100.0."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


@dataclass
class Checked:
    """A list read in full: what it would create and change, or why it is refused."""

    new: list[City]
    changed: list[City]
    unchanged: list[City]
    errors: list[Refusal]


def check_rows(rows: Iterable[Sequence[Any]], known: Mapping[str, Known]) -> Checked:
    """Every row of a list of cities (the heading row first), against the tree on file and
    against each other. Rows are numbered as a spreadsheet numbers them (the headings are
    row 1); blank rows are skipped. A city on file under the same province is brought up to
    date (name, English name, region); cities the list does not name are left alone."""
    it = iter(rows)
    head = next(it, None)
    if head is None:
        return Checked([], [], [], [refuse("empty_upload", "文件是空的：第 1 行应为表头（代码、名称、上级）",
                                           "the file is empty: row 1 holds the headings "
                                           "(code, name, parent)", field="file")])
    columns, errors = _columns(head)
    if errors:
        return Checked([], [], [], errors)
    new: list[City] = []
    changed: list[City] = []
    unchanged: list[City] = []
    first_row: dict[str, int] = {}
    count = 0
    for n, values in enumerate(it, start=2):
        raw = {name: _text(values[i]) if i < len(values) else ""
               for name, i in columns.items()}
        if not any(raw.values()):
            continue
        count += 1
        if count > MAX_ROWS:
            errors.append(refuse("too_many_rows", f"第 {n} 行：行数超过 {MAX_ROWS} 行上限",
                                 f"row {n}: more than {MAX_ROWS} rows", field="file",
                                 details={"row": n}))
            break
        city, errs = check_city(raw, known, row=n)
        if errs:
            errors += errs
            continue
        assert city is not None
        if city.code in first_row:
            errors.append(_bad(_at("code", n), "duplicate_code",
                               f"代码 {city.code} 与第 {first_row[city.code]} 行重复",
                               f"code {city.code} repeats row {first_row[city.code]}",
                               city.code))
            continue
        first_row[city.code] = n
        on_file = known.get(city.code)
        if on_file is None:
            new.append(city)
            continue
        if on_file.parent_code != city.parent_code:
            errors.append(_bad(_at("parent", n), "parent_mismatch",
                               f"{city.code} {on_file.name_zh} 已在上级 {on_file.parent_code} 之下",
                               f"{city.code} {on_file.name_en or on_file.name_zh} is on file "
                               f"under {on_file.parent_code}", city.parent_code))
            continue
        province = known[city.parent_code]
        (changed if city.differs_from(on_file, province.region) else unchanged).append(city)
    if not errors and count == 0:
        errors.append(refuse("empty_upload", "文件中没有数据行（第 1 行为表头）",
                             "the file has no data rows (row 1 holds the headings)",
                             field="file"))
    if errors:
        return Checked([], [], [], errors)
    return Checked(new, changed, unchanged, [])
