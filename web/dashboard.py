"""The dashboard page (/dashboard): counts and progress towards the programme goals
(002 §一), drawn as charts in the browser with each chart's table as its fallback.

The tables are built once here (`tables_of`) and used by both the page and the Excel
export (web/exports.py), so what one shows the other contains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from web.auth import current_user, requires
from web.extensions import uow
from web.i18n import is_en, region_label, state_label
from workflow.errors import Forbidden
from workflow.programme import DEFAULT_CODE, programme
from workflow.services import dashboard as service

bp = Blueprint("dashboard", __name__)


@dataclass
class Column:
    header: str  # with its unit, e.g. 高新技术产品出口额（亿美元）
    kind: str = "text"  # text | int | decimal | pct | year
    chart: bool = True  # drawn as a series (numbers only)


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    chart: str | None = None  # bar | hbar | line | doughnut
    stacked: bool = False
    y2: str | None = None  # the header of a series drawn on a second (%) axis
    note: str | None = None


def load(user_id: int) -> service.Dashboard:
    """The dashboard of the programme named by `?programme=` (notice 002's unless named)."""
    try:
        return service.overview(uow(), user_id,
                                (request.args.get("programme") or DEFAULT_CODE).strip())
    except Forbidden:
        abort(403)


def tables_of(d: service.Dashboard) -> list[Table]:
    """The dashboard's tables in the current language, charts named on each."""
    apps, bases = _("申报数（件）"), _("已认定基地（家）")
    defined = d.programme or programme()
    by_state = Table("by_state", _("按状态统计"), [Column(_("状态")), Column(apps, "int")],
                     [[state_label(s, defined), n] for s, n in d.by_state], chart="bar")
    by_region = Table("by_region", _("按地区统计"),
                      [Column(_("地区")), Column(apps, "int"), Column(bases, "int")],
                      [[region_label(str(r["region"])), r["applications"], r["designated"]]
                       for r in d.by_region], chart="bar")
    national = d.scope == "national"  # a province sees its cities, the ministry provinces
    by_authority = Table(
        "by_authority", _("按省级商务主管部门统计") if national else _("按地市统计"),
        [Column(_("省级商务主管部门") if national else _("地市")), Column(_("地区"), chart=False),
         Column(apps, "int"), Column(bases, "int"),
         Column(_("已认定基地高新技术产品出口额（亿美元）"), "decimal", chart=False)],
        [[(r["name_en"] or r["name_zh"]) if is_en() else r["name_zh"],
          region_label(str(r["region"])),
          r["applications"], r["designated"], r["designated_hightech_100m_usd"]]
         for r in d.by_authority], chart="hbar", stacked=False)
    share_header = _("占全国比重（%）")
    trends = Table(
        "trends", _("各年度趋势"),
        [Column(_("申报年度"), "year"), Column(apps, "int"), Column(_("当年认定基地（家）"), "int"),
         Column(_("累计认定基地（家）"), "int"),
         Column(_("累计基地高新技术产品出口额（亿美元）"), "decimal", chart=False),
         Column(_("数据年度"), "year", chart=False),
         Column(_("全国高新技术产品出口额（亿美元）"), "decimal", chart=False),
         Column(share_header, "pct")],
        [[t.year, t.applications, t.designated, t.designated_cumulative,
          t.share.bases_100m_usd, t.share.data_year, t.share.national_100m_usd, t.share.pct]
         for t in d.trends], chart="bar", y2=share_header,
        note=_("各年度数据取自该年度申报书所填上一年度数据；全国数据取自参考统计。"))
    states = [s for s in defined.states if any(s in per for per in d.rounds_by_state.values())]
    by_round = Table(
        "by_round", _("各年度申报状态"),
        [Column(_("申报年度"), "year")] + [Column(state_label(s, defined), "int") for s in states],
        [[year] + [d.rounds_by_state[year].get(s, 0) for s in states]
         for year in sorted(d.rounds_by_state)], chart="bar", stacked=True)
    # the steps whose lateness the programme marks (`late_after`: 002 §六(三)'s recommend
    # and approve), and reviewers' overrides of a failed criterion
    late = [t for t in defined.transitions if t.late_after]
    marks = Table(
        "deadlines", _("逾期与越过条件"),
        [Column(_("申报年度"), "year")]
        + [Column((t.late_en if is_en() else t.late_zh) or t.trigger, "int") for t in late]
        + [Column(_("越过未满足条件"), "int")],
        [[year, *(m.get(t.trigger, 0) for t in late), m.get("overridden", 0)]
         for year, m in sorted(d.marks_by_round.items())], chart="bar",
        note=_("逾期：推荐晚于报送截止日期、核准晚于核准截止日期（商技发〔2006〕6号 六(三)），"
               "均已说明理由。") if late else None)
    return [by_state, by_region, by_authority, trends, by_round, marks]


@bp.get("/dashboard")
@requires("dashboard.view")
def index() -> Any:
    user = current_user()
    assert user is not None
    d = load(user.id)
    return render_template("dashboard/index.html", d=d, tables=tables_of(d),
                           programme_choices=d.programmes,
                           share=d.share, goal_share=d.goal_share_pct,
                           zero=Decimal(0))
