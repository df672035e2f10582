"""The 37 submitting authorities and their regions.  # 002 §二, §六(二)(2)"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Region(StrEnum):
    EAST = "east"  # 东部
    CENTRAL = "central"  # 中部
    WEST = "west"  # 西部
    NORTHEAST = "northeast"  # 东北

    @property
    def zh(self) -> str:
        return {"east": "东部", "central": "中部", "west": "西部", "northeast": "东北"}[self.value]


@dataclass(frozen=True)
class Authority:
    """A 省级商务主管部门: province, municipality, autonomous region, 计划单列市 or XPCC."""

    code: str  # GB/T 2260 division code (XPCC: 660000)
    name_zh: str
    name_en: str
    region: Region
    kind: str  # province | municipality | autonomous_region | separately_planned_city | xpcc


E, C, W, NE = Region.EAST, Region.CENTRAL, Region.WEST, Region.NORTHEAST

AUTHORITIES: tuple[Authority, ...] = (
    Authority("110000", "北京市", "Beijing", E, "municipality"),
    Authority("120000", "天津市", "Tianjin", E, "municipality"),
    Authority("130000", "河北省", "Hebei", E, "province"),
    Authority("140000", "山西省", "Shanxi", C, "province"),
    Authority("150000", "内蒙古自治区", "Inner Mongolia", W, "autonomous_region"),
    Authority("210000", "辽宁省", "Liaoning", NE, "province"),
    Authority("210200", "大连市", "Dalian", NE, "separately_planned_city"),
    Authority("220000", "吉林省", "Jilin", NE, "province"),
    Authority("230000", "黑龙江省", "Heilongjiang", NE, "province"),
    Authority("310000", "上海市", "Shanghai", E, "municipality"),
    Authority("320000", "江苏省", "Jiangsu", E, "province"),
    Authority("330000", "浙江省", "Zhejiang", E, "province"),
    Authority("330200", "宁波市", "Ningbo", E, "separately_planned_city"),
    Authority("340000", "安徽省", "Anhui", C, "province"),
    Authority("350000", "福建省", "Fujian", E, "province"),
    Authority("350200", "厦门市", "Xiamen", E, "separately_planned_city"),
    Authority("360000", "江西省", "Jiangxi", C, "province"),
    Authority("370000", "山东省", "Shandong", E, "province"),
    Authority("370200", "青岛市", "Qingdao", E, "separately_planned_city"),
    Authority("410000", "河南省", "Henan", C, "province"),
    Authority("420000", "湖北省", "Hubei", C, "province"),
    Authority("430000", "湖南省", "Hunan", C, "province"),
    Authority("440000", "广东省", "Guangdong", E, "province"),
    Authority("440300", "深圳市", "Shenzhen", E, "separately_planned_city"),
    Authority("450000", "广西壮族自治区", "Guangxi", W, "autonomous_region"),
    Authority("460000", "海南省", "Hainan", E, "province"),
    Authority("500000", "重庆市", "Chongqing", W, "municipality"),
    Authority("510000", "四川省", "Sichuan", W, "province"),
    Authority("520000", "贵州省", "Guizhou", W, "province"),
    Authority("530000", "云南省", "Yunnan", W, "province"),
    Authority("540000", "西藏自治区", "Tibet", W, "autonomous_region"),
    Authority("610000", "陕西省", "Shaanxi", W, "province"),
    Authority("620000", "甘肃省", "Gansu", W, "province"),
    Authority("630000", "青海省", "Qinghai", W, "province"),
    Authority("640000", "宁夏回族自治区", "Ningxia", W, "autonomous_region"),
    Authority("650000", "新疆维吾尔自治区", "Xinjiang", W, "autonomous_region"),
    Authority("660000", "新疆生产建设兵团", "Xinjiang Production and Construction Corps", W, "xpcc"),
)

BY_CODE: dict[str, Authority] = {a.code: a for a in AUTHORITIES}
