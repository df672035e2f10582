"""Who applies and who prepares the materials.  # 002 §六, §六(三)

A base applies as a region (a prefecture-level city or a development zone) or, in the
central and western regions only, as an industry cluster of leading export enterprises and
their supporting enterprises (002 §六; the form's `applicant_type` and its
`only_in_regions` check). Who organises the application's materials follows from that and
from the authority that drafts it (002 §六(三)): a cluster's are organised by the commerce
bureau of a city where one of its leading enterprises is, or by the province itself for a
provincial leading enterprise (the form's `prepared_in_listed_city` check).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workflow.authorities import short_names

CLUSTER = "cluster"


@dataclass(frozen=True)
class Drafter:
    """The authority that drafts an application and so organises its materials (组织申报材料,
    002 §六(三)): a prefecture-level city's commerce bureau, or a province-level authority."""

    code: str  # GB/T 2260: 420100
    name_zh: str = ""  # 武汉市
    name_en: str = ""  # Wuhan
    # a city's province (湖北省); None: the authority is province-level itself
    province_zh: str | None = None

    @property
    def is_city(self) -> bool:
        return self.province_zh is not None


def names_city(typed: str | None, city: Drafter) -> bool:
    """Whether a leading enterprise's city as stored names `city`: its code (420100, what
    the form's list of cities stores), or as typed its Chinese name in full or short —
    without 市, 地区 or 盟, an autonomous prefecture's place with or without 州 (武汉,
    恩施州, 恩施, `authorities.short_names`) — either after its province's name (湖北省武汉市),
    or its English name in any case (Wuhan). Spaces do not count."""
    text = "".join((typed or "").split())
    if city.province_zh and text.startswith(city.province_zh) \
            and len(text) > len(city.province_zh):
        text = text[len(city.province_zh):]
    if not text:
        return False
    names = {city.code}
    if city.name_zh:
        names |= {city.name_zh, *short_names(city.name_zh)}
    if city.name_en.strip():
        names.add("".join(city.name_en.split()).casefold())
    return text in names or text.casefold() in names


def prepares_cluster(drafter: Drafter, cities: Sequence[str | None]) -> bool:
    """May `drafter` organise the materials of a cluster whose leading enterprises are in
    `cities` (002 §六(三))? The province itself may: 省级龙头企业由省商务主管部门组织申报材料.
    A city's bureau may when one of them is in it: 以产业集群申报…由龙头企业所在地级市商务主管
    部门组织申报材料. A city not typed yet may be its own: only when every leading
    enterprise's city is stated and none is the drafting city is the answer no."""
    if not drafter.is_city:
        return True
    if not cities or any(not (c or "").strip() for c in cities):
        return True
    return any(names_city(c, drafter) for c in cities)


def preparer(applicant_type: str | None, drafted_by_city: bool) -> tuple[str, str]:
    """Who organises the materials, in words (zh, en), by 002 §六(三): a city's commerce
    bureau for a city; for a cluster, the bureau of the city where its leading enterprise
    is; the province's commerce department for a provincial leading enterprise (a cluster
    drafted at province level)."""
    if applicant_type == CLUSTER:
        if drafted_by_city:
            return ("龙头企业所在地级市商务主管部门组织申报材料（产业集群，002 §六(三)）",
                    "prepared by the commerce bureau of the city where the leading enterprise "
                    "is (industry cluster, notice 002, §6(3))")
        return ("省级商务主管部门组织申报材料（省级龙头企业，002 §六(三)）",
                "prepared by the province's commerce department (provincial leading "
                "enterprise, notice 002, §6(3))")
    if drafted_by_city:
        return ("地级市商务主管部门组织申报材料（002 §六(三)）",
                "prepared by the city's commerce bureau (notice 002, §6(3))")
    return ("省级商务主管部门组织申报材料（002 §六(三)）",
            "prepared by the province-level commerce department (notice 002, §6(3))")
