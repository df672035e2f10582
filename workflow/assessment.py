"""Re-evaluation (动态调整): a base's reports → indicators → keep / rectify / revoke.

Pure domain: no database. The service loads every base's figures in bulk, calls `assess`
for each, and stores the result. Which findings a programme applies, with their parameters,
labels and citations, and which outcomes propose what, are data: the `[assessment]` section
of its definition file (programmes/*.toml, `parse_assessment`), each finding picked by name
from the library below (`FINDINGS`). The rules are written out in docs/re-evaluation.md.

Sources: 002 §四(四) (quarterly data, annual report due 31 December), §六(一) (criteria of
re-certified bases), §六(二)(1)–(3) (criteria of new bases), §六(三) (动态跟踪、定期评估),
§一 (动态调整; the 70 % share goal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
from workflow.errors import DefinitionError
from workflow.reporting import annual_due, quarterly_due
from workflow.rules import ReferenceStats, RoundRules

KEEP, RECTIFY, REVOKE = "keep", "rectify", "revoke"
PROPOSALS = (KEEP, RECTIFY, REVOKE)
PROPOSAL_ZH = {KEEP: "保留", RECTIFY: "限期整改", REVOKE: "撤销"}
PROPOSAL_TRIGGER = {KEEP: "keep_designation", RECTIFY: "order_rectification", REVOKE: "revoke"}
# Outcomes of a finding besides pass / fail / pending
MISSING, LATE, NOT_DUE = "missing", "late", "not_due"
OUTCOMES = (PASS, FAIL, PENDING, MISSING, LATE, NOT_DUE)  # what a finding can say
PROBLEMS = frozenset({FAIL, MISSING})  # notice 002's: what moves a proposal away from "keep"
TEN_K_PER_MILLION = Decimal(100)  # 100 万美元 = US$1M
TEN_K_PER_100M = Decimal(10000)  # 10000 万美元 = 1 亿美元
CENT = Decimal("0.01")


@dataclass(frozen=True)
class AssessmentRules:
    """A programme's re-evaluation rules (its file's `[assessment]`; notice 002's unless
    given) with the parameters a round overrides (rounds.params["assessment"])."""

    definition: AssessmentDef = field(default_factory=lambda: notice_002())
    overrides: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None,
                    definition: AssessmentDef | None = None) -> AssessmentRules:
        """The definition's rules with a round's overrides of its parameters."""
        definition = definition or notice_002()
        raw = dict((params or {}).get("assessment") or {})
        names = {*definition.parameters, SHARE_GOAL}
        return cls(definition, {k: Decimal(str(v)) for k, v in raw.items()
                                if k in names and v is not None})

    def param(self, name: str) -> Decimal:
        """A parameter as it applies: the round's, else the file's."""
        found = self.overrides.get(name)
        return found if found is not None else self.definition.parameters[name]

    def params_of(self, f: FindingDef) -> dict[str, Decimal]:
        return {k: self.overrides.get(k, v) for k, v in f.params.items()}

    @property
    def recert_min_hightech_share_pct(self) -> Decimal:
        # 002 §六(一)(3) 特色产业: high-tech exports at least this share of the base's exports
        return self.param("recert_min_hightech_share_pct")

    @property
    def recert_min_growth_pct(self) -> Decimal:
        # … and not falling by more than this a year
        return self.param("recert_min_growth_pct")

    @property
    def programme_share_goal_pct(self) -> Decimal | None:
        """002 §一: the bases' share of national high-tech exports, 70%左右 — the
        programme's `[goals] share_pct`, unless the round sets another."""
        return self.overrides.get(SHARE_GOAL, self.definition.share_goal_pct)


SHARE_GOAL = "programme_share_goal_pct"


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
    problem_outcomes: frozenset[str] = PROBLEMS  # its programme's `rectify_on`

    @property
    def problems(self) -> list[Verdict]:
        return [f for f in self.findings if f.outcome in self.problem_outcomes]

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


# --- the definition: a programme file's [assessment] ----------------------------------------

@dataclass(frozen=True)
class FindingDef:
    """One finding a programme applies: a function of the library (`finding`, a key of
    FINDINGS) under its own key, with its parameters, labels and the rule it cites."""

    key: str  # the criterion its verdicts carry (stored in the findings, shown on pages)
    finding: str  # the library function that judges it
    source: str  # the rule it applies, e.g. "002 §六(一)(3)"
    zh: str
    en: str
    kinds: tuple[str, ...] = ()  # the application kinds it applies to (empty: all)
    params: Mapping[str, Decimal] = field(default_factory=dict)

    def applies_to(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


@dataclass(frozen=True)
class ProposalRule:
    """What the findings propose: keep unless one has an outcome of `rectify_on`; then
    rectify (限期整改) — or, for a base in a `rectifying` state whose deadline has passed,
    `still_failing` (002 §一 动态调整: revoke)."""

    rectify_on: frozenset[str]
    rectifying: frozenset[str]
    still_failing: str
    source: str


@dataclass(frozen=True)
class AssessmentDef:
    """A programme's re-evaluation rules, as its file's `[assessment]` says."""

    findings: tuple[FindingDef, ...]
    proposal: ProposalRule
    share_goal_pct: Decimal | None = None  # its `[goals] share_pct` (002 §一: 70 %)

    @property
    def parameters(self) -> dict[str, Decimal]:
        """Every parameter the findings take, by name (a round overrides them by name)."""
        return {k: v for f in self.findings for k, v in f.params.items()}


def notice_002() -> AssessmentDef:
    """Notice 002's rules: the `[assessment]` of programmes/mofcom-2006-6.toml."""
    # imported here: the programme module parses [assessment] with this module's library
    from workflow.programme import programme

    found = programme().assessment
    if found is None:
        raise DefinitionError("mofcom-2006-6.toml: assessment: the [assessment] section is "
                              "missing")
    return found


# --- the library of findings ------------------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    """What the findings of one base and period read, computed once."""

    base: BaseFigures
    period: int
    today: date
    round_rules: RoundRules
    references: Mapping[int, ReferenceStats]
    cal: WorkCalendar
    reported: list[QuarterFigures]  # the period's quarterly reports, in order
    yearly: Mapping[int, Decimal | None]  # yearly high-tech exports (US$M), period−3 … period
    growth: Decimal | None  # the period's high-tech growth


Judge = Callable[[FindingDef, Facts, Mapping[str, Decimal]], list[Verdict]]


@dataclass(frozen=True)
class Finding:
    """A function of the library and the parameters it needs (each required in the file)."""

    judge: Judge
    params: tuple[str, ...] = ()


FINDINGS: dict[str, Finding] = {}


def finding(name: str, *params: str) -> Callable[[Judge], Judge]:
    """Enter a function in the library under `name`, needing `params`."""
    def enter(judge: Judge) -> Judge:
        FINDINGS[name] = Finding(judge, params)
        return judge
    return enter


@finding("quarterly_reports")
def _quarterly_reports(f: FindingDef, x: Facts, _p: Mapping[str, Decimal]) -> list[Verdict]:
    """Missing, late and not-yet-due quarterly data. Due dates are the reminders'
    (`workflow.reporting`): the round's working days after the quarter."""
    out: list[Verdict] = []
    period, source = x.period, f.source
    for q in (1, 2, 3, 4):
        due = _quarterly_due(period, q, x.round_rules.quarterly_report_working_days, x.cal)
        report = x.base.quarters.get((period, q))
        figures: dict[str, Any] = {"year": period, "quarter": q, "due_on": due.isoformat()}
        if report is None and due >= x.today:
            out.append(Verdict(f.key, NOT_DUE, f"{period} 年第 {q} 季度数据尚未到期（{due}）",
                               f"{period} Q{q} data is not due yet ({due})", source, figures))
        elif report is None:
            out.append(Verdict(f.key, MISSING, f"{period} 年第 {q} 季度数据未报送（应于 {due} 前报送）",
                               f"{period} Q{q} data was not filed (due {due})", source, figures))
        elif report.submitted_on > due:
            late = (report.submitted_on - due).days
            figures.update(submitted_on=report.submitted_on.isoformat(), days_late=late)
            out.append(Verdict(f.key, LATE,
                               f"{period} 年第 {q} 季度数据逾期 {late} 天报送（应于 {due} 前）",
                               f"{period} Q{q} data was filed {late} day(s) late (due {due})",
                               source, figures))
    return out


@finding("annual_report")
def _annual_report(f: FindingDef, x: Facts, _p: Mapping[str, Decimal]) -> list[Verdict]:
    """A missing, late or not-yet-due annual work report (年度工作报告)."""
    period = x.period
    due = annual_due(period, x.round_rules)
    report = x.base.annual.get(period)
    figures: dict[str, Any] = {"year": period, "due_on": due.isoformat()}
    if report is None and due >= x.today:
        return [Verdict(f.key, NOT_DUE, f"{period} 年度工作报告尚未到期（{due}）",
                        f"the {period} annual report is not due yet ({due})", f.source,
                        figures)]
    if report is None:
        return [Verdict(f.key, MISSING,
                        f"{period} 年度工作报告和下年度工作思路未报送（应于 {due} 前）",
                        f"the {period} annual report and next year's plan were not filed "
                        f"(due {due})", f.source, figures)]
    if report.submitted_on > due:
        late = (report.submitted_on - due).days
        figures.update(submitted_on=report.submitted_on.isoformat(), days_late=late)
        return [Verdict(f.key, LATE, f"{period} 年度工作报告逾期 {late} 天报送",
                        f"the {period} annual report was filed {late} day(s) late",
                        f.source, figures)]
    return []


@finding("threshold_by_region")
def _threshold(f: FindingDef, x: Facts, _p: Mapping[str, Decimal]) -> list[Verdict]:
    """The region's threshold (the round's) on the period's quarterly data: the 4 quarters'
    sum ≥ it. With quarters missing, a partial sum that already reaches it still passes
    (exports are never negative); one that does not is undecided."""
    period, reported = x.period, x.reported
    total_10k = sum((q.hightech_exports_10k_usd for q in reported), Decimal(0))
    v = threshold_verdict(x.base.region, total_10k / TEN_K_PER_100M, x.round_rules)
    v.criterion, v.source = f.key, f.source
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
    return [v]


@finding("growth_vs_reference")
def _growth_vs_reference(f: FindingDef, x: Facts, _p: Mapping[str, Decimal]
                         ) -> list[Verdict]:
    """Three years' high-tech growth ending with the period above the national high-tech
    growth or the locality's export growth (`eligibility.growth_verdict`)."""
    b, period = x.base, x.period
    v = growth_verdict(b.region, period, [_growth(b, period - 2, x.yearly),
                                          _growth(b, period - 1, x.yearly), x.growth],
                       dict(x.references), b.authorities)
    v.criterion, v.source = f.key, f.source
    return [v]


@finding("hightech_share", "recert_min_hightech_share_pct")
def _hightech_share(f: FindingDef, x: Facts, p: Mapping[str, Decimal]) -> list[Verdict]:
    """The period's high-tech exports at least a share of the base's exports."""
    reported = x.reported
    exports = sum((q.exports_10k_usd for q in reported), Decimal(0))
    hightech = sum((q.hightech_exports_10k_usd for q in reported), Decimal(0))
    need = Decimal(p["recert_min_hightech_share_pct"])
    if not reported or exports == 0:
        return [Verdict(f.key, PENDING, "本年度无出口数据，无法计算特色产业占比",
                        "no export figures this year: the share cannot be computed", f.source,
                        {"threshold_pct": need})]
    share = (hightech / exports * 100).quantize(CENT)
    ok = share >= need
    return [Verdict(
        f.key, PASS if ok else FAIL,
        f"高新技术（特色产业）产品出口占基地出口 {share}% {'≥' if ok else '<'} {need}%",
        f"high-tech (characteristic industry) exports are {share}% of the base's exports, "
        f"{'at least' if ok else 'below'} {need}%", f.source,
        {"hightech_exports_10k_usd": hightech, "exports_10k_usd": exports,
         "share_pct": share, "threshold_pct": need, "quarters_counted": len(reported)})]


@finding("export_trend", "recert_min_growth_pct")
def _export_trend(f: FindingDef, x: Facts, p: Mapping[str, Decimal]) -> list[Verdict]:
    """The period's high-tech growth year on year not below a floor."""
    period, growth = x.period, x.growth
    floor = Decimal(p["recert_min_growth_pct"])
    if growth is None:
        return [Verdict(f.key, PENDING, f"缺少 {period - 1}–{period} 年完整数据，无法计算同比增速",
                        f"no complete figures for {period - 1}–{period}: growth unknown",
                        f.source, {"floor_pct": floor})]
    ok = growth >= floor
    return [Verdict(
        f.key, PASS if ok else FAIL,
        f"高新技术产品出口同比 {growth}% {'≥' if ok else '<'} 下限 {floor}%",
        f"high-tech exports changed {growth}% year on year, "
        f"{'not below' if ok else 'below'} the floor of {floor}%", f.source,
        {"growth_pct": growth, "floor_pct": floor, "year": period})]


def _annual_says(f: FindingDef, x: Facts, what: str) -> list[Verdict]:
    """A check of the annual report's structured summary; its label says what it asks."""
    report = x.base.annual.get(x.period)
    if report is None:
        return [Verdict(f.key, PENDING, f"{f.zh}：年度工作报告未交，无法确认",
                        f"{f.en}: no annual report to confirm it", f.source)]
    funding = report.project_funding_10k_cny
    policies_ok = bool(report.policies_in_force)
    funding_ok = funding is not None and Decimal(funding) > 0
    ok = {"policies": policies_ok, "funding": funding_ok,
          "both": policies_ok and funding_ok}[what]
    figures = {"policies_in_force": report.policies_in_force,
               "project_funding_10k_cny": funding}
    return [Verdict(f.key, PASS if ok else FAIL,
                    f"{f.zh}{'' if ok else '：年度工作报告未体现'}（资金 {funding or 0} 万元）",
                    f"{f.en}{'' if ok else ': not shown by the annual report'} "
                    f"(funding CNY {funding or 0} 10k)", f.source, figures)]


@finding("policies_in_force")
def _policies_in_force(f: FindingDef, x: Facts, _p: Mapping[str, Decimal]) -> list[Verdict]:
    """The annual report says supporting policies are in force."""
    return _annual_says(f, x, "policies")


@finding("project_funding")
def _project_funding(f: FindingDef, x: Facts, _p: Mapping[str, Decimal]) -> list[Verdict]:
    """The annual report shows funding of projects (> 0)."""
    return _annual_says(f, x, "funding")


@finding("policies_and_funding")
def _policies_and_funding(f: FindingDef, x: Facts, _p: Mapping[str, Decimal]
                          ) -> list[Verdict]:
    """The annual report says policies are in force and shows funding (> 0)."""
    return _annual_says(f, x, "both")


# --- assessing ------------------------------------------------------------------------------

def assess(base: BaseFigures, period: int, today: date, round_rules: RoundRules,
           references: Mapping[int, ReferenceStats],
           rules: AssessmentRules | None = None,
           cal: WorkCalendar = DEFAULT_CALENDAR) -> Assessment:
    """Assess one base for the year `period` as of `today` (which decides what is due), by
    the findings its programme's `[assessment]` applies to the base's kind, in order."""
    rules = rules or AssessmentRules()
    reported = [q for (y, _), q in sorted(base.quarters.items()) if y == period]
    # every yearly figure the criteria and indicators use, computed once
    yearly = {y: yearly_hightech_musd(base, y) for y in range(period - 3, period + 1)}
    growth = _growth(base, period, yearly)
    facts = Facts(base, period, today, round_rules, references, cal, reported, yearly, growth)
    findings: list[Verdict] = []
    for f in rules.definition.findings:
        if f.applies_to(base.kind):
            findings += FINDINGS[f.finding].judge(f, facts, rules.params_of(f))
    indicators = _indicators(period, reported, growth, references, yearly)
    rule = rules.definition.proposal
    return Assessment(base.application_id, period,
                      _propose(base, findings, today, indicators, rule),
                      findings, indicators, rule.rectify_on)


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
             indicators: dict[str, Any], rule: ProposalRule) -> str:
    """No finding with an outcome of `rule.rectify_on` → keep; otherwise rectify, or — for a
    base already under rectification whose deadline has passed — `rule.still_failing`
    (002: revoke, 整改后仍不符合, §一 动态调整)."""
    problems = [f for f in findings if f.outcome in rule.rectify_on]
    if not problems:
        return KEEP
    if base.state in rule.rectifying:
        deadline = base.rectification_deadline
        indicators["rectification_deadline"] = deadline.isoformat() if deadline else None
        if deadline is None or deadline < today:
            findings.append(Verdict(
                "rectification", FAIL,
                f"限期整改（期限 {deadline}）届满后仍不符合要求",
                f"still failing after the rectification deadline ({deadline})",
                rule.source, {"rectification_deadline": deadline}))
            return rule.still_failing
        findings.append(Verdict(
            "rectification", PENDING, f"整改期限 {deadline} 尚未届满",
            f"the rectification deadline {deadline} has not passed yet", rule.source,
            {"rectification_deadline": deadline}))
    return RECTIFY


# --- reading a programme file's [assessment] ------------------------------------------------

FINDING_KEYS = {"key", "finding", "kinds", "zh", "en", "source", "params"}
PROPOSAL_KEYS = {"rectify_on", "rectifying", "still_failing", "source"}


def _texts(where: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise DefinitionError(f"{where}: must be a list of names")
    return tuple(raw)


def _word(where: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise DefinitionError(f"{where}: must be a non-empty text")
    return raw


def _params(where: str, raw: Any, needed: tuple[str, ...]) -> dict[str, Decimal]:
    """A finding's `params`: exactly the numbers its library function needs."""
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: must be a table of numbers")
    for name in sorted(set(raw) - set(needed)):
        raise DefinitionError(f"{where}.{name}: unknown parameter (this finding takes "
                              f"{', '.join(needed) or 'none'})")
    out = {}
    for name in needed:
        value = raw.get(name)
        if value is None:
            raise DefinitionError(f"{where}.{name}: missing (this finding needs it)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DefinitionError(f"{where}.{name}: must be a number, not {value!r}")
        out[name] = Decimal(str(value))
    return out


def _finding_def(where: str, raw: Any, kinds: set[str], seen: set[str]) -> FindingDef:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: must be a table")
    key = _word(f"{where}.key", raw.get("key"))
    where += f" ({key})"
    if key in seen:
        raise DefinitionError(f"{where}: the finding is defined twice")
    seen.add(key)
    unknown = sorted(set(raw) - FINDING_KEYS)
    if unknown:
        raise DefinitionError(f"{where}.{unknown[0]}: is not a finding setting (one of "
                              f"{', '.join(sorted(FINDING_KEYS))})")
    name = raw.get("finding")
    if name not in FINDINGS:
        raise DefinitionError(f"{where}.finding: unknown finding {name!r} (one of "
                              f"{', '.join(sorted(FINDINGS))})")
    applies = _texts(f"{where}.kinds", raw.get("kinds", []))
    for k in applies:
        if k not in kinds:
            raise DefinitionError(f"{where}.kinds: kind {k!r} is not defined")
    return FindingDef(key=key, finding=name, source=_word(f"{where}.source", raw.get("source")),
                      zh=_word(f"{where}.zh", raw.get("zh")),
                      en=_word(f"{where}.en", raw.get("en")), kinds=applies,
                      params=_params(f"{where}.params", raw.get("params"),
                                     FINDINGS[name].params))


def _proposal_rule(file: str, raw: Any, states: set[str]) -> ProposalRule:
    where = f"{file}: assessment.proposal"
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where}: the [assessment.proposal] table is missing: which "
                              "outcomes propose rectification?")
    unknown = sorted(set(raw) - PROPOSAL_KEYS)
    if unknown:
        raise DefinitionError(f"{where}.{unknown[0]}: is not a proposal setting (one of "
                              f"{', '.join(sorted(PROPOSAL_KEYS))})")
    rectify_on = _texts(f"{where}.rectify_on", raw.get("rectify_on"))
    if not rectify_on:
        raise DefinitionError(f"{where}.rectify_on: names no outcome")
    for o in rectify_on:
        if o not in OUTCOMES or o == PASS:
            raise DefinitionError(f"{where}.rectify_on: unknown outcome {o!r} (one of "
                                  f"{', '.join(x for x in OUTCOMES if x != PASS)})")
    rectifying = _texts(f"{where}.rectifying", raw.get("rectifying", []))
    for s in rectifying:
        if s not in states:
            raise DefinitionError(f"{where}.rectifying: state {s!r} is not defined")
    still = raw.get("still_failing", REVOKE)
    if still not in PROPOSALS:
        raise DefinitionError(f"{where}.still_failing: unknown outcome {still!r} (one of "
                              f"{', '.join(PROPOSALS)})")
    return ProposalRule(frozenset(rectify_on), frozenset(rectifying), still,
                        _word(f"{where}.source", raw.get("source")))


def parse_assessment(file: str, raw: Any, kinds: set[str], states: set[str],
                     share_goal_pct: Decimal | None = None) -> AssessmentDef | None:
    """A programme file's `[assessment]`, checked: each finding a function of the library
    with exactly its parameters, each kind and state defined, each outcome known. None:
    the file has none (its bases are not re-evaluated)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DefinitionError(f"{file}: assessment: must be an [assessment] table")
    unknown = sorted(set(raw) - {"findings", "proposal"})
    if unknown:
        raise DefinitionError(f"{file}: assessment.{unknown[0]}: is not an assessment setting "
                              "(findings, proposal)")
    entries = raw.get("findings")
    if not isinstance(entries, list) or not entries:
        raise DefinitionError(f"{file}: assessment.findings: no [[assessment.findings]] "
                              "table: what does the re-evaluation look at?")
    seen: set[str] = set()
    found = tuple(_finding_def(f"{file}: assessment.findings[{i}]", e, kinds, seen)
                  for i, e in enumerate(entries))
    first: dict[str, FindingDef] = {}
    for f in found:  # a round overrides a parameter by name: one value per name
        for p, value in f.params.items():
            other = first.setdefault(p, f)
            if other.params[p] != value:
                raise DefinitionError(f"{file}: assessment.findings ({f.key}).params.{p}: "
                                      f"{value} differs from {other.key!r}'s {other.params[p]}")
    return AssessmentDef(found, _proposal_rule(file, raw.get("proposal"), states),
                         share_goal_pct)
