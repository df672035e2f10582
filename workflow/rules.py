"""Parameters of an application round: thresholds, quotas, calendar — data, not constants.

Defaults are the 2006 round of 商技发[2006]6号 (002); every value can be changed per round.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from workflow.errors import DefinitionError
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
        """What a new round of notice 002 in `year` starts with: the `[rounds]` table of
        its programme file (programmes/mofcom-2006-6.toml), dates moved to that year."""
        from workflow.programme import programme

        return programme().round_rules(year)


# --- a programme's `[rounds]` table: what a new round of it starts with ---------------------
# Every key is a RoundRules field (but `year`, the round's own, and `reminder_rules`, which
# `[[reminders]]` holds). Dates are a month and a day of the round's year ("04-30"); the
# province's internal date may be "" (none).
ROUND_DATES = ("provincial_internal_deadline", "submission_deadline", "approval_deadline")
ROUND_REQUIRED = ("submission_deadline", "approval_deadline")
NOT_IN_ROUNDS = ("year", "reminder_rules")
REGION_KEYS = tuple(r.value for r in Region)


def _month_day(file: str, key: str, raw: Any) -> str:
    """ "MM-DD", a day every year has (29 February is refused: not every year has it)."""
    try:
        text = str(raw)
        day = date.fromisoformat(f"2001-{text}")  # a year without 29 February
        if len(text) != 5:
            raise ValueError
    except ValueError:
        raise DefinitionError(f"{file}: rounds.{key}: {raw!r} is not a month and day "
                              f"(\"MM-DD\", e.g. \"04-30\")") from None
    return day.strftime("%m-%d")


def _count(file: str, key: str, raw: Any, least: int = 0) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < least:
        raise DefinitionError(f"{file}: rounds.{key}: must be a whole number ≥ {least}")
    return raw


def _by_region(file: str, key: str, raw: Any, number: type) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) != set(REGION_KEYS):
        raise DefinitionError(f"{file}: rounds.{key}: must give each region "
                              f"({', '.join(REGION_KEYS)}) its figure")
    out: dict[str, Any] = {}
    for region, value in raw.items():
        if number is int:
            out[region] = _count(file, f"{key}.{region}", value)
        elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise DefinitionError(f"{file}: rounds.{key}.{region}: must be a number > 0")
        else:
            out[region] = str(value)
    return out


def _strings(file: str, key: str, raw: Any, allowed: Iterable[str] | None = None
             ) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise DefinitionError(f"{file}: rounds.{key}: must be a list of names")
    if allowed is not None:
        wrong = sorted(set(raw) - set(allowed))
        if wrong:
            raise DefinitionError(f"{file}: rounds.{key}: {wrong[0]!r} is not one of "
                                  f"{', '.join(allowed)}")
    return list(raw)


def parse_round_defaults(file: str, raw: Any) -> dict[str, Any] | None:
    """The `[rounds]` table of a programme file, checked, as `RoundRules.from_json` reads
    it (dates still month-day); None when the file has none."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DefinitionError(f"{file}: rounds: must be a [rounds] table")
    known = {f.name for f in fields(RoundRules)} - set(NOT_IN_ROUNDS)
    for key in sorted(raw):
        if key not in known:
            raise DefinitionError(f"{file}: rounds.{key}: is not a round setting (one of "
                                  f"{', '.join(sorted(known))})")
    for key in ROUND_REQUIRED:
        if key not in raw:
            raise DefinitionError(f"{file}: rounds.{key}: missing (a new round needs it)")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ROUND_DATES:
            out[key] = "" if value == "" and key == "provincial_internal_deadline" \
                else _month_day(file, key, value)
        elif key == "annual_report_month_day":
            out[key] = [int(x) for x in _month_day(file, key, value).split("-")]
        elif key in ("thresholds_musd", "quota_new_with_bases"):
            out[key] = _by_region(file, key, value, Decimal if key == "thresholds_musd" else int)
        elif key == "quota_overrides":
            if not isinstance(value, dict):
                raise DefinitionError(f"{file}: rounds.{key}: must be a table code = quota")
            out[key] = {str(k): _count(file, f"{key}.{k}", v) for k, v in value.items()}
        elif key == "new_base_fields":
            out[key] = _strings(file, key, value, FIELD_ZH)
        elif key == "blocking_criteria":
            out[key] = _strings(file, key, value)  # checked against [[criteria]] by the caller
        elif key == "reminder_days_before":
            if not isinstance(value, list) or not value:
                raise DefinitionError(f"{file}: rounds.{key}: must be a list of days, "
                                      "e.g. [10, 5, 2, 1]")
            out[key] = [_count(file, key, d, 1) for d in value]
        elif key == "notice_shows_figures":
            if not isinstance(value, bool):
                raise DefinitionError(f"{file}: rounds.{key}: must be true or false")
            out[key] = value
        else:
            out[key] = _count(file, key, value, 1 if key.endswith("working_days") else 0)
    return out


def rules_for_year(defaults: dict[str, Any], year: int) -> RoundRules:
    """A new round's rules in `year` from a programme's checked `[rounds]` table."""
    data: dict[str, Any] = {**defaults, "year": year}
    for key in ROUND_DATES:
        if key in data:
            data[key] = f"{year}-{data[key]}" if data[key] else None
    data.setdefault("provincial_internal_deadline", None)
    return RoundRules.from_json(data)


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
