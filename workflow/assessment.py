"""Re-evaluation (动态调整): a base's reports → indicators → keep / rectify / revoke.

Pure domain: no database. The service loads every base's figures in bulk, calls `assess`
for each, and stores the result. The rules are written out in docs/re-evaluation.md.

Sources: 002 §四(四) (quarterly data, annual report due 31 December), §六(一) (criteria of
re-certified bases), §六(二)(1)–(3) (criteria of new bases), §六(三) (动态跟踪、定期评估),
§一 (动态调整; the 70 % share goal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from workflow.calendar import DEFAULT_CALENDAR, WorkCalendar
from workflow.eligibility import (
    FAIL,
    PASS,
    PENDING,
    Verdict,
    growth_verdict,
    threshold_verdict,
)
from workflow.reporting import annual_due, quarterly_due
from workflow.rules import ReferenceStats, RoundRules
from workflow.states import State

KEEP, RECTIFY, REVOKE = "keep", "rectify", "revoke"
PROPOSALS = (KEEP, RECTIFY, REVOKE)
PROPOSAL_ZH = {KEEP: "保留", RECTIFY: "限期整改", REVOKE: "撤销"}
PROPOSAL_TRIGGER = {KEEP: "keep_designation", RECTIFY: "order_rectification", REVOKE: "revoke"}
# Outcomes of a finding besides pass / fail / pending
MISSING, LATE, NOT_DUE = "missing", "late", "not_due"
PROBLEMS = frozenset({FAIL, MISSING})  # what moves a proposal away from "keep"
TEN_K_PER_MILLION = Decimal(100)  # 100 万美元 = US$1M
TEN_K_PER_100M = Decimal(10000)  # 10000 万美元 = 1 亿美元
CENT = Decimal("0.01")
REPORTING = "002 §四(四)"


@dataclass(frozen=True)
class AssessmentRules:
    """Parameters of re-evaluation a round may change (rounds.params["assessment"])."""

    # Re-certified bases (002 §六(一)(3) 特色产业): high-tech exports at least this share of
    # the base's exports, and not falling by more than `recert_min_growth_pct` a year.
    recert_min_hightech_share_pct: Decimal = Decimal(30)
    recert_min_growth_pct: Decimal = Decimal(-10)
    programme_share_goal_pct: Decimal = Decimal(70)  # 002 §一: 70%左右

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> AssessmentRules:
        raw = dict((params or {}).get("assessment") or {})
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if raw.get(f.name) is None:
                continue
            kw[f.name] = int(raw[f.name]) if f.type == "int" else Decimal(str(raw[f.name]))
        return cls(**kw)


@dataclass(frozen=True)
class QuarterFigures:
    """One quarter's current report (每季度上报), in 万美元 as on the form."""

    year: int
    quarter: int
    exports_10k_usd: Decimal
    hightech_exports_10k_usd: Decimal
    submitted_on: date


@dataclass(frozen=True)
class AnnualFigures:
    """The structured part of a 年度工作报告 (002 §四(四))."""

    year: int
    submitted_on: date
    policies_in_force: bool | None = None  # 配套政策
    project_funding_10k_cny: Decimal | None = None  # 科技兴贸项目资金支持


@dataclass(frozen=True)
class BaseFigures:
    """Everything `assess` needs to know about one designated base."""

    application_id: int
    kind: str  # new_base | recertification
    region: str
    state: str
    data_year: int  # the year of the application form's figures
    form_hightech_exports_100m_usd: Decimal | None = None
    # the form's yearly high-tech growth for data_year-2, data_year-1, data_year
    form_growth_pcts: tuple[Decimal | None, Decimal | None, Decimal | None] = (None, None, None)
    quarters: Mapping[tuple[int, int], QuarterFigures] = field(default_factory=dict)
    # Σ of the four quarters' high-tech exports (万美元) of complete earlier years, for a
    # caller that sums them in bulk rather than passing every quarter of every year
    yearly_hightech_10k_usd: Mapping[int, Decimal] = field(default_factory=dict)
    annual: Mapping[int, AnnualFigures] = field(default_factory=dict)
    rectification_deadline: date | None = None
    name: str = ""
    # its own authority, then its province if another: whose statistics are 本地区's
    authorities: tuple[str, ...] = ()


@dataclass
class Assessment:
    """The proposal for one base and one period, with every finding behind it."""

    application_id: int
    period: int
    proposal: str
    findings: list[Verdict]
    indicators: dict[str, Any]

    @property
    def problems(self) -> list[Verdict]:
        return [f for f in self.findings if f.outcome in PROBLEMS]

    def explanation(self, locale: str = "zh") -> str:
        """One paragraph: the proposal and each problem with its figures and rule source."""
        zh = not locale.startswith("en")
        items = self.problems or [f for f in self.findings if f.outcome == PASS]
        parts = [f"{f.zh if zh else f.en}（{f.source}）" if zh else f"{f.en} ({f.source})"
                 for f in items]
        if zh:
            head = f"{self.period} 年度复评建议：{PROPOSAL_ZH[self.proposal]}。"
            return head + "；".join(parts)
        return f"{self.period} re-evaluation proposes: {self.proposal}. " + "; ".join(parts)

    def findings_json(self) -> list[dict[str, Any]]:
        # what `_json_safe(f.as_dict())` gives, without dataclasses.asdict's deep copies
        return [{"criterion": f.criterion, "outcome": f.outcome, "zh": f.zh, "en": f.en,
                 "source": f.source, "figures": _json_safe(f.figures)}
                for f in self.findings]

    def indicators_json(self) -> dict[str, Any]:
        return {k: _json_safe(v) for k, v in self.indicators.items()}


_PLAIN = frozenset({str, int, float, bool, type(None)})  # JSON as they are


def _json_safe(value: Any) -> Any:
    """Decimals and dates as strings, recursively (exact, JSON-safe). Plain leaves are
    taken as they are without a call: this runs over every figure of every base."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is Decimal:
        return str(value)
    if isinstance(value, dict):
        return {str(k): v if type(v) in _PLAIN else _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else _json_safe(v) for v in value]
    if isinstance(value, Decimal | date):
        return str(value)
    return value


# --- the reporting calendar: `workflow.reporting` (one rule for reminders and assessment)

@lru_cache(maxsize=256)
def _quarterly_due(year: int, quarter: int, working_days: int, cal: WorkCalendar) -> date:
    # the same four dates for every base of a run: computed once, not once per base
    return quarterly_due(year, quarter, RoundRules(quarterly_report_working_days=working_days),
                         cal)


# --- indicators ----------------------------------------------------------------------

def _musd(ten_k: Decimal) -> Decimal:
    return (ten_k / TEN_K_PER_MILLION).quantize(CENT)


def yearly_hightech_musd(base: BaseFigures, year: int) -> Decimal | None:
    """A year's high-tech exports in US$M: the 4 quarters' sum, else the form's figure for
    the form's year; None if neither is complete."""
    qs = [base.quarters.get((year, q)) for q in (1, 2, 3, 4)]
    if all(qs):
        return _musd(sum((q.hightech_exports_10k_usd for q in qs if q), Decimal(0)))
    summed = base.yearly_hightech_10k_usd.get(year)
    if summed is not None:
        return _musd(summed)
    if year == base.data_year and base.form_hightech_exports_100m_usd is not None:
        return (Decimal(base.form_hightech_exports_100m_usd) * 100).quantize(CENT)
    return None


def yearly_growth_pct(base: BaseFigures, year: int) -> Decimal | None:
    """High-tech export growth of `year` over the year before: from two complete years of
    figures, else the growth the application form declared for that year."""
    return _growth(base, year, {y: yearly_hightech_musd(base, y) for y in (year - 1, year)})


def _growth(base: BaseFigures, year: int, yearly: Mapping[int, Decimal | None]
            ) -> Decimal | None:
    """`yearly_growth_pct` from the yearly figures already computed (`yearly_hightech_musd`
    of `year` and the year before)."""
    now, before = yearly[year], yearly[year - 1]
    if now is not None and before:
        return ((now / before - 1) * 100).quantize(CENT)
    offset = base.data_year - year
    if 0 <= offset <= 2:
        declared = base.form_growth_pcts[2 - offset]
        return None if declared is None else Decimal(declared)
    return None


# --- findings ------------------------------------------------------------------------

def _reporting_findings(base: BaseFigures, period: int, today: date, round_rules: RoundRules,
                        cal: WorkCalendar) -> tuple[list[Verdict], list[int]]:
    """Missing, late and not-yet-due reports; returns (findings, quarters that are due).
    Due dates are the reminders' (`workflow.reporting`): working days after the quarter."""
    out: list[Verdict] = []
    due_quarters = []
    for q in (1, 2, 3, 4):
        due = _quarterly_due(period, q, round_rules.quarterly_report_working_days, cal)
        report = base.quarters.get((period, q))
        figures: dict[str, Any] = {"year": period, "quarter": q, "due_on": due.isoformat()}
        if report is None and due >= today:
            out.append(Verdict("quarterly_report", NOT_DUE, f"{period} 年第 {q} 季度数据尚未到期（{due}）",
                               f"{period} Q{q} data is not due yet ({due})", REPORTING, figures))
            continue
        due_quarters.append(q)
        if report is None:
            out.append(Verdict("quarterly_report", MISSING,
                               f"{period} 年第 {q} 季度数据未报送（应于 {due} 前报送）",
                               f"{period} Q{q} data was not filed (due {due})", REPORTING, figures))
        elif report.submitted_on > due:
            late = (report.submitted_on - due).days
            figures.update(submitted_on=report.submitted_on.isoformat(), days_late=late)
            out.append(Verdict("quarterly_report", LATE,
                               f"{period} 年第 {q} 季度数据逾期 {late} 天报送（应于 {due} 前）",
                               f"{period} Q{q} data was filed {late} day(s) late (due {due})",
                               REPORTING, figures))
    due = annual_due(period, round_rules)
    report_a = base.annual.get(period)
    figures = {"year": period, "due_on": due.isoformat()}
    if report_a is None and due >= today:
        out.append(Verdict("annual_report", NOT_DUE, f"{period} 年度工作报告尚未到期（{due}）",
                           f"the {period} annual report is not due yet ({due})", REPORTING,
                           figures))
    elif report_a is None:
        out.append(Verdict("annual_report", MISSING,
                           f"{period} 年度工作报告和下年度工作思路未报送（应于 {due} 前）",
                           f"the {period} annual report and next year's plan were not filed "
                           f"(due {due})", REPORTING, figures))
    elif report_a.submitted_on > due:
        late = (report_a.submitted_on - due).days
        figures.update(submitted_on=report_a.submitted_on.isoformat(), days_late=late)
        out.append(Verdict("annual_report", LATE, f"{period} 年度工作报告逾期 {late} 天报送",
                           f"the {period} annual report was filed {late} day(s) late",
                           REPORTING, figures))
    return out, due_quarters


def _threshold(base: BaseFigures, period: int, round_rules: RoundRules,
               reported: list[QuarterFigures]) -> Verdict:
    """002 §六(二)(2) on the period's quarterly data: the 4 quarters' sum ≥ the region's
    threshold. With quarters missing, a partial sum that already reaches it still passes
    (exports are never negative); one that does not is undecided."""
    total_10k = sum((q.hightech_exports_10k_usd for q in reported), Decimal(0))
    v = threshold_verdict(base.region, total_10k / TEN_K_PER_100M, round_rules)
    v.figures.update(year=period, quarters_counted=len(reported),
                     hightech_exports_10k_usd=total_10k,
                     method="Σ 4 个季度高新技术产品出口额（万美元）÷ 100 = 百万美元")
    if len(reported) < 4 and v.outcome == FAIL:
        v.outcome = PENDING
        v.zh = f"{period} 年仅报送 {len(reported)} 个季度，累计 {v.figures['hightech_exports_musd']} 百万美元，无法判断是否达到门槛 {v.figures['threshold_musd']} 百万美元"
        v.en = (f"only {len(reported)} quarter(s) of {period} reported, US$"
                f"{v.figures['hightech_exports_musd']}M so far: cannot tell whether the "
                f"US${v.figures['threshold_musd']}M threshold is met")
    elif len(reported) < 4:
        v.zh += f"（仅 {len(reported)} 个季度已达到）"
        v.en += f" (already with {len(reported)} quarter(s))"
    return v


def _policies(base: BaseFigures, period: int) -> list[Verdict]:
    """002 §六(一)(1)(2) / §六(二)(1) from the annual report's structured summary."""
    report = base.annual.get(period)
    if base.kind == "recertification":
        checks = [("supporting_policies", "002 §六(一)(1)", "policies", "基地已经制定实施科技兴贸配套政策",
                   "the base has supporting policies in force"),
                  ("project_funding", "002 §六(一)(2)", "funding", "基地已对科技兴贸项目给予资金支持",
                   "the base funds 科技兴贸 projects")]
    else:
        checks = [("local_policy", "002 §六(二)(1)", "both", "出台配套政策并安排专项资金",
                   "supporting policies in force and special funds set aside")]
    out = []
    for name, source, what, zh, en in checks:
        if report is None:
            out.append(Verdict(name, PENDING, f"{zh}：年度工作报告未交，无法确认",
                               f"{en}: no annual report to confirm it", source))
            continue
        funding = report.project_funding_10k_cny
        policies_ok = bool(report.policies_in_force)
        funding_ok = funding is not None and Decimal(funding) > 0
        ok = {"policies": policies_ok, "funding": funding_ok,
              "both": policies_ok and funding_ok}[what]
        figures = {"policies_in_force": report.policies_in_force,
                   "project_funding_10k_cny": funding}
        out.append(Verdict(name, PASS if ok else FAIL,
                           f"{zh}{'' if ok else '：年度工作报告未体现'}（资金 {funding or 0} 万元）",
                           f"{en}{'' if ok else ': not shown by the annual report'} "
                           f"(funding CNY {funding or 0} 10k)", source, figures))
    return out


def _recertified(base: BaseFigures, period: int, rules: AssessmentRules,
                 reported: list[QuarterFigures], growth: Decimal | None) -> list[Verdict]:
    """Our reading of 002 §六(一)(3) 特色产业 for a yearly check (docs/re-evaluation.md)."""
    source = "002 §六(一)(3)"
    out = []
    exports = sum((q.exports_10k_usd for q in reported), Decimal(0))
    hightech = sum((q.hightech_exports_10k_usd for q in reported), Decimal(0))
    need = Decimal(rules.recert_min_hightech_share_pct)
    if not reported or exports == 0:
        out.append(Verdict("characteristic_industry", PENDING, "本年度无出口数据，无法计算特色产业占比",
                           "no export figures this year: the share cannot be computed", source,
                           {"threshold_pct": need}))
    else:
        share = (hightech / exports * 100).quantize(CENT)
        ok = share >= need
        out.append(Verdict(
            "characteristic_industry", PASS if ok else FAIL,
            f"高新技术（特色产业）产品出口占基地出口 {share}% {'≥' if ok else '<'} {need}%",
            f"high-tech (characteristic industry) exports are {share}% of the base's exports, "
            f"{'at least' if ok else 'below'} {need}%", source,
            {"hightech_exports_10k_usd": hightech, "exports_10k_usd": exports,
             "share_pct": share, "threshold_pct": need, "quarters_counted": len(reported)}))
    floor = Decimal(rules.recert_min_growth_pct)
    if growth is None:
        out.append(Verdict("export_trend", PENDING, f"缺少 {period - 1}–{period} 年完整数据，无法计算同比增速",
                           f"no complete figures for {period - 1}–{period}: growth unknown",
                           source, {"floor_pct": floor}))
    else:
        ok = growth >= floor
        out.append(Verdict(
            "export_trend", PASS if ok else FAIL,
            f"高新技术产品出口同比 {growth}% {'≥' if ok else '<'} 下限 {floor}%",
            f"high-tech exports changed {growth}% year on year, "
            f"{'not below' if ok else 'below'} the floor of {floor}%", source,
            {"growth_pct": growth, "floor_pct": floor, "year": period}))
    return out


def assess(base: BaseFigures, period: int, today: date, round_rules: RoundRules,
           references: Mapping[int, ReferenceStats],
           rules: AssessmentRules | None = None,
           cal: WorkCalendar = DEFAULT_CALENDAR) -> Assessment:
    """Assess one base for the year `period` as of `today` (which decides what is due)."""
    rules = rules or AssessmentRules()
    findings, due_quarters = _reporting_findings(base, period, today, round_rules, cal)
    reported = [q for (y, _), q in sorted(base.quarters.items()) if y == period]
    # every yearly figure the criteria and indicators use, computed once
    yearly = {y: yearly_hightech_musd(base, y) for y in range(period - 3, period + 1)}
    growth = _growth(base, period, yearly)
    if base.kind == "recertification":
        findings += _recertified(base, period, rules, reported, growth)
    else:
        findings.append(_threshold(base, period, round_rules, reported))
        findings.append(growth_verdict(
            base.region, period,
            [_growth(base, period - 2, yearly), _growth(base, period - 1, yearly), growth],
            dict(references), base.authorities))
    findings += _policies(base, period)
    indicators = _indicators(period, reported, growth, references, yearly)
    return Assessment(base.application_id, period, _propose(base, findings, today, indicators),
                      findings, indicators)


def _indicators(period: int, reported: list[QuarterFigures], growth: Decimal | None,
                references: Mapping[int, ReferenceStats],
                yearly: Mapping[int, Decimal | None]) -> dict[str, Any]:
    hightech = sum((q.hightech_exports_10k_usd for q in reported), Decimal(0))
    exports = sum((q.exports_10k_usd for q in reported), Decimal(0))
    out: dict[str, Any] = {
        "year": period, "quarters_reported": [q.quarter for q in reported],
        "hightech_exports_musd": _musd(hightech), "exports_musd": _musd(exports),
        "growth_pct": growth,
        "yearly_hightech_musd": {str(y): yearly[y] for y in range(period - 3, period + 1)},
    }
    ref = references.get(period)
    national = ref.national_hightech_exports_100m_usd if ref else None
    if national and len(reported) == 4:
        # 002 §一: the bases' share of national high-tech exports (goal 70%)
        out["share_of_national_pct"] = (hightech / TEN_K_PER_100M / Decimal(national) * 100
                                        ).quantize(Decimal("0.0001"))
    return out


def _propose(base: BaseFigures, findings: list[Verdict], today: date,
             indicators: dict[str, Any]) -> str:
    """No failed criterion and no missing report → keep; otherwise rectify, or revoke for a
    base already under rectification (整改后仍不符合, 002 §一 动态调整)."""
    problems = [f for f in findings if f.outcome in PROBLEMS]
    if not problems:
        return KEEP
    if base.state == State.RECTIFYING.value:
        deadline = base.rectification_deadline
        indicators["rectification_deadline"] = deadline.isoformat() if deadline else None
        if deadline is None or deadline < today:
            findings.append(Verdict(
                "rectification", FAIL,
                f"限期整改（期限 {deadline}）届满后仍不符合要求",
                f"still failing after the rectification deadline ({deadline})",
                "002 §一 动态调整", {"rectification_deadline": deadline}))
            return REVOKE
        findings.append(Verdict(
            "rectification", PENDING, f"整改期限 {deadline} 尚未届满",
            f"the rectification deadline {deadline} has not passed yet", "002 §一 动态调整",
            {"rectification_deadline": deadline}))
    return RECTIFY
