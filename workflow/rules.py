"""Parameters of an application round: thresholds, quotas, calendar — data, not constants.

Defaults are the 2006 round of 商技发[2006]6号 (002); every value can be changed per round.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from workflow.regions import Region
from workflow.register import NATIONAL

NEW_BASE_FIELDS_2006 = (  # 002 §五(二)
    "information", "pharmaceuticals", "software", "new_materials", "fine_chemicals",
    "marine", "aerospace",
)
FIELD_ZH = {
    "information": "信息", "pharmaceuticals": "医药", "software": "软件",
    "new_materials": "新材料", "fine_chemicals": "精细化工", "marine": "海洋产业",
    "aerospace": "空天",
}
EXISTING_BASE_TYPES = tuple(t.value for t in NATIONAL)  # 002 §五(一)
EXISTING_BASE_ZH = {t.value: t.zh for t in NATIONAL}


def _thresholds() -> dict[str, Decimal]:
    # 002 §六(二)(2): US$100M east, US$50M central and northeast, US$10M west (US$ millions)
    return {"east": Decimal(100), "central": Decimal(50), "northeast": Decimal(50),
            "west": Decimal(10)}


def _quota_with_bases() -> dict[str, int]:
    # 002 §六(三): east re-certifies only; central and west may recommend one more.
    # The northeast is not named there; we treat it like the central region (same
    # threshold in §六(二)(2), and §二 gives it its own development task) — a round can
    # change this.
    return {"east": 0, "central": 1, "west": 1, "northeast": 1}


@dataclass(frozen=True)
class RoundRules:
    """Everything a round decides. Dates are the calendar of DOMAIN.md "The calendar"."""

    year: int = 2006
    provincial_internal_deadline: date | None = None  # a province's own date for drafts
    submission_deadline: date = date(2006, 4, 30)  # 002 §六(三): to the ministry
    approval_deadline: date = date(2006, 5, 31)  # 002 §六(三): 5月底前
    annual_report_month_day: tuple[int, int] = (12, 31)  # 002 §四(四)
    notice_working_days: int = 5  # 公示期; 002 does not fix it
    thresholds_musd: dict[str, Decimal] = field(default_factory=_thresholds)
    quota_new_with_bases: dict[str, int] = field(default_factory=_quota_with_bases)
    quota_new_without_bases: int = 1  # 002 §六(三): 原来没有基地的…可推荐1家
    quota_overrides: dict[str, int] = field(default_factory=dict)  # authority code -> quota
    national_new_target: int = 15  # 002 §五(二): 十五个左右
    new_base_fields: tuple[str, ...] = NEW_BASE_FIELDS_2006
    blocking_criteria: frozenset[str] = frozenset()
    reminder_days_before: tuple[int, ...] = (10, 5, 2, 1)
    escalate_every_working_days: int = 3
    rectification_working_days: int = 60
    # reminders (workflow.reminders): the round's own rule table (empty: the defaults) and
    # the working days after a quarter's end by which its data are due (002 §四(四))
    reminder_rules: tuple[dict[str, Any], ...] = ()
    quarterly_report_working_days: int = 15
    # 002 §六(三) publishes the recommended names online; the applicants' figures appear on
    # the public notice only when the round says so
    notice_shows_figures: bool = False

    @property
    def data_year(self) -> int:
        """The year whose figures the form asks for (2005 in the 2006 round)."""
        return self.year - 1

    def threshold_for(self, region: Region | str) -> Decimal:
        return Decimal(self.thresholds_musd[str(region)])

    def quota_for(self, authority_code: str, region: Region | str, has_bases: bool) -> int:
        if authority_code in self.quota_overrides:
            return int(self.quota_overrides[authority_code])
        if has_bases:
            return int(self.quota_new_with_bases[str(region)])
        return int(self.quota_new_without_bases)

    # --- (de)serialisation to the JSON column of the rounds table -----------------
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, date):
                v = v.isoformat()
            elif isinstance(v, dict):
                v = {k: (str(x) if isinstance(x, Decimal) else x) for k, x in v.items()}
            elif isinstance(v, frozenset):
                v = sorted(v)
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoundRules:
        base = cls()
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data or data[f.name] is None and f.name not in (
                    "provincial_internal_deadline",):
                continue
            v = data[f.name]
            cur = getattr(base, f.name)
            if f.name in ("provincial_internal_deadline", "submission_deadline",
                          "approval_deadline"):
                v = date.fromisoformat(v) if v else None
            elif f.name == "thresholds_musd":
                v = {k: Decimal(str(x)) for k, x in v.items()}
            elif isinstance(cur, frozenset):
                v = frozenset(v)
            elif isinstance(cur, tuple):
                v = tuple(v)
            kw[f.name] = v
        return replace(base, **kw)

    @classmethod
    def for_year(cls, year: int) -> RoundRules:
        """Defaults for a round in `year`: 2006's rules moved to that year's dates."""
        return cls(year=year, submission_deadline=date(year, 4, 30),
                   approval_deadline=date(year, 5, 31),
                   provincial_internal_deadline=date(year, 4, 14))


class RoundStatus(StrEnum):
    """A round's life (issue 14): planned by the programme's owner (its dates may still
    change), open for applications (its rules frozen), closed (its unfinished cases wait on
    no one and get no reminders; its bases keep their duties)."""

    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


def round_status(opened_on: date | None, closed_on: date | None, day: date) -> RoundStatus:
    """The round's status on `day` (as of the domain's clock: with `APP_NOW` in 2006 the
    2006 round is open again)."""
    if closed_on is not None and day >= closed_on:
        return RoundStatus.CLOSED
    if opened_on is None or day < opened_on:
        return RoundStatus.PLANNED
    return RoundStatus.OPEN


# The statistics catalogue a figure was compiled against: 国家/地方高新技术产品出口目录
CATALOGUES = {"national": ("国家高新技术产品出口目录", "national catalogue"),
              "local": ("地方高新技术产品出口目录", "local catalogue")}


@dataclass(frozen=True)
class LocalityStat:
    """One authority's (a province's or a city's) own export growth of one year, as its
    statistics say: 本地区外贸出口增幅 of 002 §六(二)(3)."""

    authority_code: str
    year: int
    export_growth_pct: Decimal
    source: str  # who compiled it, e.g. "浙江省统计局《2005年统计公报》"
    catalogue: str  # a key of CATALOGUES
    name_zh: str = ""  # the authority's name, for the verdict's words
    name_en: str = ""


@dataclass(frozen=True)
class ReferenceStats:
    """Ministry-entered statistics of one year that the criteria compare against."""

    year: int
    national_hightech_exports_100m_usd: Decimal | None = None
    national_hightech_growth_pct: Decimal | None = None
    # before issue 16 the ministry typed one figure per macro-region; kept as a labelled
    # fallback for an authority whose own figures were never entered
    region_export_growth_pct: dict[str, Decimal] = field(default_factory=dict)
    # authority code -> its own figure of the year (本地区: the province or the city)
    localities: dict[str, LocalityStat] = field(default_factory=dict)
