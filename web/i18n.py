"""How the UI shows dates, times, numbers and domain labels in the user's language.

Chinese first: dates as 2006年4月28日, times in Asia/Shanghai (北京时间), numbers
grouped by thousands. Labels of states, triggers, regions and roles come from the
domain's own Chinese/English names so the table stays the one source.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask import Flask, current_app, session
from flask_babel import get_locale
from jinja2 import pass_context

from workflow import form
from workflow.authorities import KIND_ZH as AUTHORITY_KIND_ZH
from workflow.errors import Refusal
from workflow.programme import Programme, attachment_def, kind_def, state_def, transition_def
from workflow.programme import programme as programme_of
from workflow.regions import Region
from workflow.register import STATUS_ZH, TYPE_EN, TYPE_ZH, BaseStatus, BaseType
from workflow.roles import Role
from workflow.rules import FIELD_ZH
from workflow.services.clock import CHINA
from workflow.states import State

FIELD_EN = {"information": "Information", "pharmaceuticals": "Pharmaceuticals",
            "software": "Software", "new_materials": "New materials",
            "fine_chemicals": "Fine chemicals", "marine": "Marine industry",
            "aerospace": "Aerospace"}
BASE_STATUS_EN = {BaseStatus.DESIGNATED: "Designated", BaseStatus.RECTIFYING: "Rectifying",
                  BaseStatus.REVOKED: "Revoked"}
AUTHORITY_KIND_EN = {
    "province": "Province", "municipality": "Municipality",
    "autonomous_region": "Autonomous region",
    "separately_planned_city": "Separately planned city",
    "xpcc": "Xinjiang Production and Construction Corps",
    "prefecture_city": "Prefecture-level city", "autonomous_prefecture": "Autonomous prefecture",
    "prefecture": "Prefecture", "league": "League"}
ROLE_EN = {Role.APPLICANT: "Applicant", Role.PROVINCIAL_REVIEWER: "Provincial reviewer",
           Role.MINISTRY_REVIEWER: "Ministry reviewer", Role.SYSTEM_ADMIN: "System admin",
           Role.SECURITY_ADMIN: "Security admin", Role.AUDITOR: "Auditor"}


def is_en() -> bool:
    """True when the page is shown in English."""
    return str(get_locale() or "zh").startswith("en")


def lang() -> str:
    return "en" if is_en() else "zh"


def to_china(moment: datetime) -> datetime:
    """A stored (UTC) moment as Beijing time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA)


def fmt_date(value: date | datetime | None) -> str:
    """2006年4月28日 (zh) or 2006-04-28 (en); a moment is first turned into Beijing time."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_china(value).date()
    if is_en():
        return value.isoformat()
    return f"{value.year}年{value.month}月{value.day}日"


def fmt_datetime(value: datetime | None) -> str:
    """A moment in Beijing time: 2006年4月28日 10:00 (zh) or 2006-04-28 10:00 (en)."""
    if value is None:
        return "—"
    local = to_china(value)
    return f"{fmt_date(local.date())} {local:%H:%M}"


def fmt_number(value: Any, places: int | None = None) -> str:
    """Thousands grouped (1,234.5); trailing zeros of stored decimals dropped."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except ArithmeticError:
            return value
    if isinstance(value, Decimal) and places is None:
        value = value.normalize()
        places = max(0, -int(value.as_tuple().exponent))  # type: ignore[operator]
    fmt = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=fmt, locale="zh_CN" if not is_en() else "en_US")


def state_label(state: str | State | None, programme: Programme | str | None = None) -> str:
    if not state:
        return "—"
    # the labels are the programme definition's (programmes/*.toml), in both languages:
    # the case's own programme's when given (or its code, as a list's row has it)
    if isinstance(programme, str):
        programme = programme_of(programme)
    defined = programme.states.get(str(state)) if programme is not None else None
    defined = defined or state_def(str(state))
    if defined is None:
        return str(state)
    return defined.en if is_en() else defined.zh


def state_tone(state: str | State | None) -> str:
    """How a state looks (its `tone` in the programme's definition): neutral, progress,
    positive, warning or negative — badges and the buttons that lead to it."""
    defined = state_def(str(state)) if state else None
    return defined.tone if defined else "neutral"


def trigger_label(trigger: str, programme: Programme | None = None) -> str:
    """A step's label as `programme` words it (the case's own: 粤府办[2006]59号's 提交 is
    not notice 002's), else as the first known programme that has the step does."""
    spec = programme.by_trigger.get(trigger) if programme is not None else None
    spec = spec or transition_def(trigger)
    if spec is None:
        return trigger
    return spec.en if is_en() else spec.zh


def late_label(trigger: str) -> str:
    """The badge of a step taken after the round's deadline (its transition's `late_zh` /
    `late_en` in the programme's definition: 逾期推荐, 逾期核准)."""
    spec = transition_def(trigger)
    if spec is None or not spec.late_zh:
        return trigger
    return spec.late_en if is_en() else spec.late_zh


def role_label(role: str | Role) -> str:
    r = Role(role)
    return ROLE_EN[r] if is_en() else r.zh


def region_label(region: str | Region | None) -> str:
    if not region:
        return "—"
    r = Region(region)
    return r.value.capitalize() if is_en() else r.zh


def kind_label(kind: str | None) -> str:
    if not kind:
        return "—"
    found = kind_def(kind)  # the programme's file names it (programmes/*.toml: form.kinds)
    if found is None:
        return kind
    return found.en if is_en() else found.zh


def industry_label(value: str | None) -> str:
    if not value:
        return "—"
    return FIELD_EN.get(value, value) if is_en() else FIELD_ZH.get(value, value)


def base_type_label(value: str | None) -> str:
    """高新技术产品出口基地 … 科技兴贸出口创新基地 (workflow.register.BaseType)."""
    if value not in {t.value for t in BaseType}:
        return value or "—"
    t = BaseType(value)
    return TYPE_EN[t] if is_en() else TYPE_ZH[t]


def base_status_label(value: str | None) -> str:
    """已认定 / 限期整改 / 已撤销: a base's status in the register."""
    if value not in {s.value for s in BaseStatus}:
        return value or "—"
    s = BaseStatus(value)
    return BASE_STATUS_EN[s] if is_en() else STATUS_ZH[s]


def decision_label(value: str) -> str:
    """What changed a base's entry: an import, or the ministry's decision on its case."""
    if value == "import":
        return "Imported" if is_en() else "导入"
    return trigger_label(value)


def attachment_label(kind: str) -> str:
    """A kind of attachment's label, as its programme's definition words it."""
    defined = attachment_def(kind)
    if defined is None:
        return kind
    return defined.en if is_en() else defined.zh


def attachment_labels(kinds: Any) -> str:
    """Several kinds' labels as one list (申报书、发展方案 / Application form, Development plan)."""
    return (", " if is_en() else "、").join(attachment_label(k) for k in kinds)


def authority_label(authority: Any) -> str:
    """An authority's name; a city's with its province's (湖北省武汉市, Wuhan, Hubei). An
    English name not on file falls back to the Chinese one."""
    if authority is None:
        return "—"
    parent = getattr(authority, "parent", None)
    if is_en():
        own = authority.name_en or authority.name_zh
        return f"{own}, {parent.name_en or parent.name_zh}" if parent else own
    return f"{parent.name_zh}{authority.name_zh}" if parent else authority.name_zh


def authority_kind_label(kind: str | None) -> str:
    if not kind:
        return "—"
    return AUTHORITY_KIND_EN.get(kind, kind) if is_en() else AUTHORITY_KIND_ZH.get(kind, kind)


def field_label(f: form.Field) -> str:
    return f.en if is_en() else f.zh


def unit_label(f: form.Field) -> str:
    return f.unit_en if is_en() else f.unit_zh


def refusal_text(r: Refusal | dict[str, Any]) -> str:
    """A refusal (or its dict form) in the user's language."""
    if isinstance(r, dict):
        return str(r.get("message_en") if is_en() else r.get("message_zh"))
    return r.message(lang())


def filesize(n: int) -> str:
    """1.2 MB, 35 KB, 15 B."""
    if n >= 1024 * 1024:
        return f"{fmt_number(round(n / 1024 / 1024, 1), 1)} MB"
    if n >= 1024:
        return f"{fmt_number(round(n / 1024))} KB"
    return f"{n} B"


def paren(text: Any) -> str:
    """（text） in Chinese, (text) in English."""
    return f"({text})" if is_en() else f"（{text}）"


def colon() -> str:
    """The label separator: full-width in Chinese."""
    return ": " if is_en() else "："


def semicolon() -> str:
    """The separator of the parts of one statement: full-width in Chinese."""
    return "; " if is_en() else "；"


def has_endpoint(name: str) -> bool:
    """Whether a page exists (nav links of other areas appear once they are built)."""
    return name in current_app.view_functions


def at_render(label: Callable[..., Any]) -> Callable[..., Any]:
    """`label` called when the page is rendered, in its reader's language. Jinja folds a
    filter on a constant (`'recommend'|late_label`) once, when it compiles the template, so
    the language of the first reader would stay in the cached template for everyone;
    a filter that takes the render context is never folded."""
    @pass_context
    def rendered(_context: Any, *args: Any, **kwargs: Any) -> Any:
        return label(*args, **kwargs)
    return rendered


def init_app(app: Flask) -> None:
    labels: dict[str, Callable[..., Any]] = dict(
        cn_date=fmt_date, cn_datetime=fmt_datetime, num=fmt_number, state_label=state_label,
        state_tone=state_tone,
        trigger_label=trigger_label, late_label=late_label, role_label=role_label, region_label=region_label,
        kind_label=kind_label, industry_label=industry_label, base_type_label=base_type_label,
        base_status_label=base_status_label, decision_label=decision_label,
        attachment_label=attachment_label, attachment_labels=attachment_labels,
        authority_label=authority_label,
        authority_kind_label=authority_kind_label,
        field_label=field_label, unit_label=unit_label, refusal_text=refusal_text, paren=paren,
        filesize=filesize,
    )
    app.jinja_env.filters.update({name: at_render(f) for name, f in labels.items()})
    # what a kind of application is (its file's [[form.kinds]]: `industry_field`,
    # `names_base`), for the pages that show a case's field or the base it re-certifies
    app.jinja_env.globals.update(has_endpoint=has_endpoint, is_en=is_en, ui_lang=lang,
                                  colon=colon, semicolon=semicolon, kind_def=kind_def)

    @app.context_processor
    def _session_lang() -> dict[str, Any]:
        return {"session_lang": session.get("lang")}
