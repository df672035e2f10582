"""Per-criterion eligibility verdicts with the figures behind them.  # 002 §六(一), §六(二)

Criteria (2) and (3) of a new base are computed from the form; the others are
attestations a reviewer confirms. Eligibility informs; it blocks only where the round
marks a criterion as blocking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from workflow.rules import ReferenceStats, RoundRules

PASS, FAIL, PENDING = "pass", "fail", "pending"
USD_100M_IN_MILLIONS = Decimal(100)  # 1 亿美元 = US$100M


@dataclass
class Verdict:
    criterion: str
    outcome: str  # pass | fail | pending
    zh: str
    en: str
    source: str
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "outcome": self.outcome, "zh": self.zh,
                "en": self.en, "source": self.source, "figures": _plain(self.figures)}


def _plain(value: Any) -> Any:
    """Decimals as strings, recursively (JSON-safe, exact)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _attestation(name: str, value: bool | None, zh: str, en: str, source: str) -> Verdict:
    if value is None:
        return Verdict(name, PENDING, f"{zh}（待审核人员确认）", f"{en} (awaiting reviewer)",
                       source, {"attested": None})
    return Verdict(name, PASS if value else FAIL, zh, en, source, {"attested": value})


def compound_growth(pcts: list[Decimal]) -> Decimal:
    """Growth over several years from yearly growth rates: Π(1 + g) − 1, in percent."""
    factor = Decimal(1)
    for p in pcts:
        factor *= 1 + p / 100
    return ((factor - 1) * 100).quantize(Decimal("0.01"))


def threshold_verdict(region: str, exports_100m_usd: Decimal | None,
                      rules: RoundRules) -> Verdict:
    """002 §六(二)(2): annual high-tech exports at least the region's threshold."""
    source = "002 §六(二)(2)"
    threshold = rules.threshold_for(region)
    if exports_100m_usd is None:
        return Verdict("hightech_exports_threshold", PENDING, "高新技术产品出口额未填写",
                       "high-tech exports not filled in", source,
                       {"threshold_musd": threshold, "region": region})
    musd = (Decimal(exports_100m_usd) * USD_100M_IN_MILLIONS).quantize(Decimal("0.01"))
    ok = musd >= threshold
    figures = {"hightech_exports_100m_usd": Decimal(exports_100m_usd), "hightech_exports_musd": musd,
               "threshold_musd": threshold, "region": region,
               "conversion": "1 亿美元 = US$100M"}
    cmp_zh, cmp_en = ("≥", "at least") if ok else ("<", "below")
    return Verdict(
        "hightech_exports_threshold", PASS if ok else FAIL,
        f"高新技术产品年出口额 {musd} 百万美元 {cmp_zh} 本地区门槛 {threshold} 百万美元",
        f"annual high-tech exports US${musd}M {cmp_en} the {region} threshold US${threshold}M",
        source, figures)


def growth_verdict(region: str, data_year: int, growth_pcts: list[Decimal | None],
                   references: dict[int, ReferenceStats]) -> Verdict:
    """002 §六(二)(3): three-year high-tech export growth above the national high-tech
    growth or the region's export growth over the same years."""
    source = "002 §六(二)(3)"
    years = [data_year - 2, data_year - 1, data_year]
    if any(g is None for g in growth_pcts):
        return Verdict("three_year_growth", PENDING, "近三年高新技术产品出口增速未填全",
                       "three years of high-tech export growth are not all filled in", source,
                       {"years": years})
    own = compound_growth([Decimal(g) for g in growth_pcts if g is not None])
    nat = [references.get(y) and references[y].national_hightech_growth_pct for y in years]
    reg = [references.get(y) and references[y].region_export_growth_pct.get(region)
           for y in years]
    figures: dict[str, Any] = {"years": years, "own_growth_pct": own,
                               "method": "Π(1+g)−1 over the three years"}
    national = compound_growth(nat) if all(x is not None for x in nat) else None  # type: ignore[arg-type]
    regional = compound_growth(reg) if all(x is not None for x in reg) else None  # type: ignore[arg-type]
    figures["national_hightech_growth_pct"] = national
    figures["region_export_growth_pct"] = regional
    if national is None and regional is None:
        return Verdict("three_year_growth", PENDING,
                       f"缺少 {years[0]}–{years[-1]} 年参考统计数据，无法比较",
                       f"reference statistics for {years[0]}–{years[-1]} are missing", source,
                       figures)
    beats_nat = national is not None and own > national
    beats_reg = regional is not None and own > regional
    figures["beats_national"], figures["beats_region"] = beats_nat, beats_reg
    if beats_nat or beats_reg:
        what_zh = "全国高新技术产品出口增幅" if beats_nat else "本地区外贸出口增幅"
        what_en = "the national high-tech growth" if beats_nat else "the region's export growth"
        bench = national if beats_nat else regional
        return Verdict("three_year_growth", PASS,
                       f"近三年增幅 {own}% 高于{what_zh} {bench}%",
                       f"three-year growth {own}% beats {what_en} {bench}%", source, figures)
    return Verdict("three_year_growth", FAIL,
                   f"近三年增幅 {own}% 未高于全国 {national}% 或本地区 {regional}%",
                   f"three-year growth {own}% beats neither national {national}% nor "
                   f"regional {regional}%", source, figures)


def evaluate(kind: str, region: str, values: dict[str, Any],
             attestations: dict[str, bool | None], rules: RoundRules,
             references: dict[int, ReferenceStats]) -> list[Verdict]:
    """All criteria of the application's kind, in the order of the notice."""
    if kind == "recertification":  # 002 §六(一)
        return [
            _attestation("supporting_policies", attestations.get("supporting_policies"),
                         "基地已经制定实施科技兴贸配套政策", "the base has implemented supporting policies",
                         "002 §六(一)(1)"),
            _attestation("project_funding", attestations.get("project_funding"),
                         "基地已对科技兴贸项目给予资金支持", "the base has funded 科技兴贸 projects",
                         "002 §六(一)(2)"),
            _attestation("characteristic_industry", attestations.get("characteristic_industry"),
                         "基地内已经形成特色产业", "a characteristic industry has formed",
                         "002 §六(一)(3)"),
        ]
    return [
        _attestation("local_policy", attestations.get("local_policy"),
                     "省级出台配套政策并安排专项资金", "the province has policies and special funds",
                     "002 §六(二)(1)"),
        threshold_verdict(region, values.get("hightech_exports_100m_usd"), rules),
        growth_verdict(region, rules.data_year,
                       [values.get("hightech_export_growth_pct_prev2"),
                        values.get("hightech_export_growth_pct_prev1"),
                        values.get("hightech_export_growth_pct")], references),
        _attestation("leading_enterprises", attestations.get("leading_enterprises"),
                     "龙头及配套企业出口额在全国位居本行业前列",
                     "leading enterprises rank near the top of their industry nationally",
                     "002 §六(二)(4)"),
    ]


ATTESTATIONS = {
    "new_base": ("local_policy", "leading_enterprises"),
    "recertification": ("supporting_policies", "project_funding", "characteristic_industry"),
}
