"""Per-criterion eligibility verdicts with the figures behind them.  # 002 §六(一), §六(二)

Criteria (2) and (3) of a new base are computed from the form; the others are
attestations a reviewer confirms. Eligibility informs; it blocks only where the round
marks a criterion as blocking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from workflow.errors import DefinitionError
from workflow.form import Field, known_settings
from workflow.rules import CATALOGUES, ReferenceStats, RoundRules

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


@dataclass(frozen=True)
class RankDef:
    """Where the province states the applicant's rank among its locality's peers (002
    §六(二)(2) 在本地区位居前列): fields of the form it fills at its review, and the rank
    that counts as near the top — an interpretation, since 002 sets no number."""

    field: str  # the rank (1 = first)
    of: str | None = None  # how many peers were ranked
    catalogue: str | None = None  # national | local statistics catalogue (CATALOGUES)
    source: str | None = None  # the statistics it was read from
    top: int = 3


def rank_half(rank: RankDef, values: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
    """The second half of criterion (2): (outcome, zh, en, figures) from the province's
    statement of the applicant's rank in its locality."""
    n = values.get(rank.field)
    peers = values.get(rank.of) if rank.of else None
    cat = values.get(rank.catalogue) if rank.catalogue else None
    where = values.get(rank.source) if rank.source else None
    figures: dict[str, Any] = {"rank": n, "of": peers, "catalogue": cat, "source": where,
                               "top": rank.top, "stated_by": "provincial_reviewer",
                               "interpretation": f"前 {rank.top} 名视为位居前列（解释性标准，"
                                                 "002 未规定名次）"}
    if n is None:
        return (PENDING, "本地区排名待省级商务主管部门填报",
                "rank in the locality: awaiting the province's statement", figures)
    cat_zh, cat_en = CATALOGUES.get(str(cat), (str(cat or "统计目录未注明"),
                                               str(cat or "catalogue not stated")))
    of_zh, of_en = (f"（共 {peers} 个）", f" of {peers}") if peers is not None else ("", "")
    src_zh, src_en = (f"，来源：{where}", f", source: {where}") if where else ("", "")
    ok = int(n) <= rank.top
    figures["outcome"] = PASS if ok else FAIL
    sign_zh, sign_en = ("位居前列", "near the top") if ok else ("未位居前列", "not near the top")
    return (PASS if ok else FAIL,
            f"按{cat_zh}统计在本地区排名第 {n} 位{of_zh}，{sign_zh}（前 {rank.top} 名，解释性标准；"
            f"省级商务主管部门填报{src_zh}）",
            f"ranked {n}{of_en} in its locality by the {cat_en}, {sign_en} (top {rank.top}: "
            f"an interpretation; stated by the province{src_en})", figures)


def threshold_and_rank(v: Verdict, rank: RankDef, values: dict[str, Any]) -> Verdict:
    """Both halves of 002 §六(二)(2): the region's threshold and the rank in the locality;
    it fails if either fails and waits while either waits."""
    outcome, zh, en, figures = rank_half(rank, values)
    both = FAIL if FAIL in (v.outcome, outcome) else (
        PENDING if PENDING in (v.outcome, outcome) else PASS)
    return Verdict(v.criterion, both, f"{v.zh}；{zh}", f"{v.en}; {en}", v.source,
                   {**v.figures, "threshold_outcome": v.outcome,
                    "locality_rank": {**figures, "outcome": outcome}})


# The locality figure a case is judged against, most specific first (002 §六(二)(3)).
CITY, PROVINCE, MACRO_REGION_FALLBACK = "city", "province", "macro_region_fallback"


def locality_growth(authorities: tuple[str, ...], region: str, years: list[int],
                    references: dict[int, ReferenceStats]) -> tuple[Decimal | None,
                                                                    dict[str, Any]]:
    """本地区外贸出口增幅 over `years`: the applicant's own authority's figures (a city's when
    the applicant is a city), else its province's, each only if all the years are entered;
    else the old macro-region figure, labelled as a fallback. `authorities` is the
    applicant's own authority, then its province if that is another."""
    for i, code in enumerate(authorities):
        stats = [references[y].localities.get(code) if y in references else None
                 for y in years]
        if all(stats):
            found = [st for st in stats if st is not None]
            level = CITY if i == 0 and len(authorities) > 1 else PROVINCE
            return compound_growth([st.export_growth_pct for st in found]), {
                "basis": level, "authority_code": code, "name_zh": found[0].name_zh,
                "name_en": found[0].name_en,
                "yearly_pct": [st.export_growth_pct for st in found],
                "sources": [st.source for st in found],
                "catalogues": [st.catalogue for st in found]}
    reg = [references[y].region_export_growth_pct.get(region) if y in references else None
           for y in years]
    if all(x is not None for x in reg):
        return compound_growth([x for x in reg if x is not None]), {
            "basis": MACRO_REGION_FALLBACK, "region": region,
            "yearly_pct": reg, "sources": ["商务部按大区录入（非本地区统计，替代值）"],
            "catalogues": []}
    return None, {"basis": None, "authorities": list(authorities)}


def _locality_words(found: dict[str, Any]) -> tuple[str, str]:
    """Which locality figure was used, in words (zh, en)."""
    if found["basis"] == MACRO_REGION_FALLBACK:
        return (f"（{found['region']} 大区替代值，本地区数据未录入）",
                f" ({found['region']} macro-region fallback: no local figures entered)")
    sources = "；".join(dict.fromkeys(found["sources"]))
    return (f"（{found['name_zh'] or found['authority_code']}，来源：{sources}）",
            f" ({found['name_en'] or found['authority_code']}, source: {sources})")


def growth_verdict(region: str, data_year: int, growth_pcts: list[Decimal | None],
                   references: dict[int, ReferenceStats],
                   authorities: tuple[str, ...] = ()) -> Verdict:
    """002 §六(二)(3): three-year high-tech export growth above the national high-tech
    growth or the applicant's own locality's export growth over the same years."""
    source = "002 §六(二)(3)"
    years = [data_year - 2, data_year - 1, data_year]
    if any(g is None for g in growth_pcts):
        return Verdict("three_year_growth", PENDING, "近三年高新技术产品出口增速未填全",
                       "three years of high-tech export growth are not all filled in", source,
                       {"years": years})
    own = compound_growth([Decimal(g) for g in growth_pcts if g is not None])
    nat = [references[y].national_hightech_growth_pct if y in references else None
           for y in years]
    national = compound_growth([x for x in nat if x is not None]) if all(
        x is not None for x in nat) else None
    local, found = locality_growth(authorities, region, years, references)
    figures: dict[str, Any] = {"years": years, "own_growth_pct": own,
                               "method": "Π(1+g)−1 over the three years",
                               "national_hightech_growth_pct": national,
                               "locality_export_growth_pct": local, "locality": found}
    if national is None and local is None:
        return Verdict("three_year_growth", PENDING,
                       f"缺少 {years[0]}–{years[-1]} 年参考统计数据，无法比较",
                       f"reference statistics for {years[0]}–{years[-1]} are missing", source,
                       figures)
    beats_nat = national is not None and own > national
    beats_local = local is not None and own > local
    figures["beats_national"], figures["beats_locality"] = beats_nat, beats_local
    where_zh, where_en = _locality_words(found) if local is not None else ("", "")
    if beats_nat:
        return Verdict("three_year_growth", PASS,
                       f"近三年增幅 {own}% 高于全国高新技术产品出口增幅 {national}%",
                       f"three-year growth {own}% beats the national high-tech growth "
                       f"{national}%", source, {**figures, "used": "national"})
    if beats_local:
        return Verdict("three_year_growth", PASS,
                       f"近三年增幅 {own}% 高于本地区外贸出口增幅 {local}%{where_zh}",
                       f"three-year growth {own}% beats the local export growth "
                       f"{local}%{where_en}", source, {**figures, "used": "locality"})
    return Verdict("three_year_growth", FAIL,
                   f"近三年增幅 {own}% 未高于全国 {national}% 或本地区 {local}%{where_zh}",
                   f"three-year growth {own}% beats neither national {national}% nor "
                   f"local {local}%{where_en}", source, figures)


CRITERION_KINDS = ("attestation", "threshold_by_region", "growth_vs_reference", "at_least",
                   "is_true", "one_of")


@dataclass(frozen=True)
class CriterionDef:
    """One criterion of a programme, as its file names and parameterises it."""

    key: str
    kind: str  # one of CRITERION_KINDS: the library function that judges it
    source: str  # the rule it applies, e.g. "002 §六(二)(2)"
    kinds: tuple[str, ...] = ()  # the application kinds it applies to (empty: all)
    zh: str = ""
    en: str = ""
    field: str | None = None  # at_least / is_true / one_of / threshold_by_region
    fields: tuple[str, ...] = ()  # growth_vs_reference: the years' growth, oldest first
    minimum: Decimal | None = None  # at_least
    allowed: tuple[str, ...] = ()  # one_of
    rank: RankDef | None = None  # threshold_by_region: the rank the province states too

    def applies_to(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


def _as_typed(number: Decimal) -> str:
    """A figure as it was typed: no zeros the database's scale added (8200.0000 → 8200,
    79.30 → 79.3)."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _field_verdict(c: CriterionDef, value: Any, field_zh: str) -> Verdict:
    """at_least / is_true / one_of on a field of the form."""
    if value is None:
        return Verdict(c.key, PENDING, f"{field_zh}未填写", f"{c.en}: not filled in", c.source,
                       {"field": c.field})
    figures: dict[str, Any] = {"field": c.field, "value": value}
    if c.kind == "at_least":
        ok = Decimal(value) >= (c.minimum or 0)
        figures["minimum"] = c.minimum
        sign_zh, sign_en = ("≥", "at least") if ok else ("<", "below")
        typed = _as_typed(Decimal(value))  # 8200, not the stored 8200.0000
        return Verdict(c.key, PASS if ok else FAIL, f"{c.zh}：{typed} {sign_zh} {c.minimum}",
                       f"{c.en}: {typed} {sign_en} {c.minimum}", c.source, figures)
    if c.kind == "is_true":
        return Verdict(c.key, PASS if value else FAIL, c.zh + ("" if value else "（否）"),
                       c.en + ("" if value else " (no)"), c.source, figures)
    ok = str(value) in c.allowed
    figures["allowed"] = list(c.allowed)
    return Verdict(c.key, PASS if ok else FAIL, f"{c.zh}：{value}", f"{c.en}: {value}",
                   c.source, figures)


def evaluate(criteria: tuple[CriterionDef, ...], kind: str, region: str,
             values: dict[str, Any], attestations: dict[str, bool | None], rules: RoundRules,
             references: dict[int, ReferenceStats],
             labels: dict[str, str] | None = None,
             authorities: tuple[str, ...] = ()) -> list[Verdict]:
    """Every criterion of the programme that applies to the application's kind, in the
    order of its file (the order of the notice). `authorities`: the applicant's own
    authority, then its province if another (whose statistics are 本地区's)."""
    out = []
    for c in criteria:
        if not c.applies_to(kind):
            continue
        if c.kind == "attestation":
            out.append(_attestation(c.key, attestations.get(c.key), c.zh, c.en, c.source))
        elif c.kind == "threshold_by_region":
            v = threshold_verdict(region, values.get(c.field or ""), rules)
            v = Verdict(c.key, v.outcome, v.zh, v.en, c.source, v.figures)
            out.append(threshold_and_rank(v, c.rank, values) if c.rank else v)
        elif c.kind == "growth_vs_reference":
            v = growth_verdict(region, rules.data_year, [values.get(f) for f in c.fields],
                               references, authorities)
            out.append(Verdict(c.key, v.outcome, v.zh, v.en, c.source, v.figures))
        else:
            out.append(_field_verdict(c, values.get(c.field or ""),
                                      (labels or {}).get(c.field or "", c.zh)))
    return out


def attestations_of(criteria: tuple[CriterionDef, ...], kind: str) -> tuple[str, ...]:
    """The criteria of this kind of application that a reviewer confirms."""
    return tuple(c.key for c in criteria if c.kind == "attestation" and c.applies_to(kind))


CRITERION_KEYS = ("key", "kind", "field", "fields", "minimum", "allowed", "rank", "zh", "en",
                  "source", "kinds")
# the type of field each kind judges (the form's `type`)
JUDGES = {"at_least": ("int", "money", "pct"), "is_true": ("bool",), "one_of": ("choice",)}


def parse_criteria(file: str, raw: Any, fields: Mapping[str, Field],
                   kinds: set[str]) -> tuple[CriterionDef, ...]:
    """The `[[criteria]]` of a programme file, checked against its form (`fields` by name)."""
    out = []
    seen: set[str] = set()
    for i, c in enumerate(raw or ()):
        where = f"{file}: criteria[{i}]"
        key = c.get("key") if isinstance(c, dict) else None
        if isinstance(key, str) and key:
            known_settings(f"{where} ({key})", c, CRITERION_KEYS, "a criterion")
        if not isinstance(key, str) or not key:
            raise DefinitionError(f"{where}.key: must be non-empty text")
        where += f" ({key})"
        if key in seen:
            raise DefinitionError(f"{where}: the criterion is defined twice")
        seen.add(key)
        kind = c.get("kind")
        if kind not in CRITERION_KINDS:
            raise DefinitionError(f"{where}.kind: unknown criterion kind {kind!r} (one of "
                                  f"{', '.join(CRITERION_KINDS)})")
        if not c.get("source"):
            raise DefinitionError(f"{where}.source: say which rule it applies")
        for k in c.get("kinds", ()):
            if k not in kinds:
                raise DefinitionError(f"{where}.kinds: kind {k!r} is not defined")
        named = [c["field"]] if c.get("field") else []
        named += list(c.get("fields", ()))
        rank = _rank(where, c.get("rank"), kind)
        if rank is not None:
            named += [n for n in (rank.field, rank.of, rank.catalogue, rank.source) if n]
        for name in named:
            if name not in fields:
                raise DefinitionError(f"{where}: field {name!r} is not defined in the form")
        if kind != "attestation" and kind != "growth_vs_reference" and not c.get("field"):
            raise DefinitionError(f"{where}.field: a {kind} criterion judges a field")
        if kind == "growth_vs_reference" and not c.get("fields"):
            raise DefinitionError(f"{where}.fields: name the years' growth fields")
        if kind in ("attestation", "at_least", "is_true", "one_of") and not (
                c.get("zh") and c.get("en")):
            raise DefinitionError(f"{where}: zh and en say what it asks")
        if kind == "at_least" and c.get("minimum") is None:
            raise DefinitionError(f"{where}.minimum: an at_least criterion needs its minimum")
        if kind == "one_of" and not c.get("allowed"):
            raise DefinitionError(f"{where}.allowed: a one_of criterion lists its values")
        if kind in JUDGES:
            _judges(where, kind, fields[c["field"]], c.get("allowed", ()))
        out.append(CriterionDef(
            key=key, kind=kind, source=str(c["source"]), kinds=tuple(c.get("kinds", ())),
            zh=str(c.get("zh", "")), en=str(c.get("en", "")), field=c.get("field"),
            fields=tuple(c.get("fields", ())),
            minimum=Decimal(str(c["minimum"])) if c.get("minimum") is not None else None,
            allowed=tuple(str(a) for a in c.get("allowed", ())), rank=rank))
    return tuple(out)


def _judges(where: str, kind: str, f: Field, allowed: Any) -> None:
    """A field criterion judges a field of its type, and a one_of's values are its options."""
    if f.kind not in JUDGES[kind]:
        raise DefinitionError(f"{where}.field: {kind} judges a field of type "
                              f"{' or '.join(JUDGES[kind])}; {f.name!r} is of type {f.kind}")
    options = [o[0] for o in f.options]
    for value in allowed if kind == "one_of" else ():
        if str(value) not in options:
            raise DefinitionError(f"{where}.allowed: {value!r} is not an option of "
                                  f"{f.name!r} (one of {', '.join(options)})")


def _rank(where: str, raw: Any, kind: str) -> RankDef | None:
    """A threshold criterion's `rank = { field, of, catalogue, source, top }`."""
    if raw is None:
        return None
    if kind != "threshold_by_region" or not isinstance(raw, dict) or not raw.get("field"):
        raise DefinitionError(f"{where}.rank: a threshold_by_region criterion's "
                              "{ field = …, of, catalogue, source, top }")
    top = raw.get("top", 3)
    if not isinstance(top, int) or top < 1:
        raise DefinitionError(f"{where}.rank.top: a whole number from 1")
    return RankDef(field=str(raw["field"]), of=raw.get("of"), catalogue=raw.get("catalogue"),
                   source=raw.get("source"), top=top)
