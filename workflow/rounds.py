"""Planning a round (issue 14): what the programme's owner may set before it opens, the
checks on it, and the warnings a careful official wants before opening it.

Pure: a round's rules (`RoundRules`) and a dict of changes in, the new rules and the
refusals out. Dates are ISO strings (`2007-04-30`) from the form, the API or the CLI.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from workflow.calendar import WorkCalendar
from workflow.errors import Refusal, refuse
from workflow.rules import FIELD_ZH, RoundRules

DATES = {  # 002 §六(三) (the 2006 round: 14 April inside the province, 30 April, 31 May)
    "provincial_internal_deadline": ("省内截止日期", "the province's internal deadline"),
    "submission_deadline": ("报送商务部截止日期", "the deadline for submission to the ministry"),
    "approval_deadline": ("核准截止日期", "the approval deadline"),
}
EDITABLE = (*DATES, "notice_working_days", "new_base_fields", "quota_overrides",
            "national_new_target", "notice_shows_figures")
CALENDAR_COMMAND = "flask --app web calendar set-day YYYY-MM-DD holiday|workday; " \
                   "flask --app web calendar confirm-year {year}"


def _date(name: str, raw: Any, out: list[Refusal]) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        zh, en = DATES[name]
        out.append(refuse("invalid_date", f"{zh}不是有效日期（应为 YYYY-MM-DD）",
                          f"{en} is not a date (YYYY-MM-DD)", field=name,
                          details={"value": str(raw)[:40]}))
        return None


def _int(name: str, raw: Any, lo: int, hi: int, zh: str, en: str,
         out: list[Refusal]) -> int | None:
    try:
        value = int(str(raw).strip())
    except ValueError:
        out.append(refuse("invalid_number", f"{zh}应为整数", f"{en} must be a whole number",
                          field=name, details={"value": str(raw)[:40]}))
        return None
    if not lo <= value <= hi:
        out.append(refuse("out_of_range", f"{zh}应在 {lo}～{hi} 之间",
                          f"{en} must be between {lo} and {hi}", field=name,
                          details={"value": value}))
        return None
    return value


def apply(rules: RoundRules, data: dict[str, Any], authority_codes: set[str]
          ) -> tuple[RoundRules, list[Refusal]]:
    """`rules` with the changes in `data` (only the keys of EDITABLE), and what is wrong."""
    errors: list[Refusal] = []
    unknown = sorted(set(data) - set(EDITABLE))
    for key in unknown:
        errors.append(refuse("unknown_field", f"不能设置“{key}”", f"{key!r} cannot be set",
                             field=key))
    changes: dict[str, Any] = {}
    for name in DATES:
        if name in data:
            parsed = _date(name, data[name], errors)
            if parsed is not None or data[name] in (None, ""):
                if parsed is None and name != "provincial_internal_deadline":
                    zh, en = DATES[name]
                    errors.append(refuse("required", f"请填写{zh}", f"{en} is required",
                                         field=name))
                else:
                    changes[name] = parsed
    if "notice_working_days" in data:  # 公示期: 002 does not fix it; 5 working days by default
        n = _int("notice_working_days", data["notice_working_days"], 1, 30, "公示期工作日数",
                 "the notice period in working days", errors)
        if n is not None:
            changes["notice_working_days"] = n
    if "notice_shows_figures" in data:  # 002 §六(三) publishes names; figures if the round says
        raw = data["notice_shows_figures"]
        if isinstance(raw, bool) or str(raw).lower() in ("true", "false", "1", "0", "on", ""):
            changes["notice_shows_figures"] = raw if isinstance(raw, bool) else \
                str(raw).lower() in ("true", "1", "on")
        else:
            errors.append(refuse("invalid_choice", "公示是否列出申报数据应为是或否",
                                 "notice_shows_figures must be true or false",
                                 field="notice_shows_figures", details={"value": str(raw)[:40]}))
    if "national_new_target" in data:  # 002 §五(二): 十五个左右
        n = _int("national_new_target", data["national_new_target"], 0, 1000,
                 "全国新基地目标数", "the national target of new bases", errors)
        if n is not None:
            changes["national_new_target"] = n
    if "new_base_fields" in data:  # 002 §五(二): the fields of the year
        raw = data["new_base_fields"]
        fields = [raw] if isinstance(raw, str) else list(raw or [])
        bad = [f for f in fields if f not in FIELD_ZH]
        if bad:
            errors.append(refuse("unknown_industry_field", f"未知的重点领域：{'、'.join(map(str, bad))}",
                                 f"unknown fields: {', '.join(map(str, bad))}",
                                 field="new_base_fields", details={"value": bad}))
        elif not fields and rules.new_base_fields:  # a programme without fields has none
            errors.append(refuse("required", "请至少选择一个新基地重点领域",
                                 "choose at least one field for new bases",
                                 field="new_base_fields"))
        else:
            changes["new_base_fields"] = tuple(dict.fromkeys(fields))
    if "quota_overrides" in data:  # 002 §六(三): the quota of named authorities this round
        quotas: dict[str, int] = {}
        for code, raw in _quota_items(data["quota_overrides"], errors):
            if code not in authority_codes:
                errors.append(refuse("unknown_authority", f"未知的省级单位代码 {code}",
                                     f"unknown authority code {code}",
                                     field=f"quota_overrides.{code}"))
                continue
            n = _int(f"quota_overrides.{code}", raw, 0, 10, f"{code} 的推荐名额",
                     f"the quota of {code}", errors)
            if n is not None:
                quotas[code] = n
        changes["quota_overrides"] = quotas
    new = replace(rules, **changes)
    errors += _order(new)
    return new, errors


def _quota_items(raw: Any, errors: list[Refusal]) -> list[tuple[str, Any]]:
    """{code: n} from the API, or the form's lines `代码=名额` (a bad line is named)."""
    if not isinstance(raw, str):
        return [(str(k).strip(), v) for k, v in dict(raw or {}).items()]
    out = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        code, sep, value = line.replace("＝", "=").partition("=")
        if sep:
            out.append((code.strip(), value.strip()))
        else:
            errors.append(refuse("invalid_quota_line", f"推荐名额第 {n} 行应为“代码=名额”，如 620000=2",
                                 f"quota line {n} must read CODE=N, e.g. 620000=2",
                                 field="quota_overrides", details={"value": line[:40]}))
    return out


def _order(rules: RoundRules) -> list[Refusal]:
    """The province's date, then the ministry's, then approval (002 §六(三))."""
    out = []
    internal, submission, approval = (rules.provincial_internal_deadline,
                                      rules.submission_deadline, rules.approval_deadline)
    if internal is not None and internal > submission:
        out.append(refuse("dates_out_of_order", "省内截止日期不能晚于报送商务部截止日期",
                          "the province's internal deadline must not be after the "
                          "submission deadline", field="provincial_internal_deadline"))
    if approval < submission:
        out.append(refuse("dates_out_of_order", "核准截止日期不能早于报送商务部截止日期",
                          "the approval deadline must not be before the submission deadline",
                          field="approval_deadline"))
    return out


def warnings(rules: RoundRules, cal: WorkCalendar) -> list[Refusal]:
    """What an official should look at before opening: a year whose holidays are not yet
    in the calendar, once with every deadline in it (the admin command named), and a
    deadline on a day off."""
    out = []
    uncovered: dict[int, list[tuple[str, date]]] = {}
    for name in DATES:
        day = getattr(rules, name)
        if day is None:
            continue
        if not cal.covers(day.year):
            uncovered.setdefault(day.year, []).append((name, day))
        if not cal.is_workday(day):  # (an unconfirmed year: by Monday–Friday)
            zh, en = DATES[name]
            out.append(refuse("not_a_working_day", f"{zh} {day.isoformat()} 不是工作日",
                              f"{en} {day.isoformat()} is not a working day", field=name,
                              details={"value": day.isoformat()}))
    return [_calendar_unconfirmed(year, days) for year, days in uncovered.items()] + out


def _calendar_unconfirmed(year: int, days: list[tuple[str, date]]) -> Refusal:
    """One warning for a year without its holidays, naming each deadline in it (on the
    first one's field)."""
    cmd = CALENDAR_COMMAND.format(year=year)
    zh = "、".join(f"{DATES[name][0]} {day.isoformat()}" for name, day in days)
    en = ", ".join(f"{DATES[name][1]} {day.isoformat()}" for name, day in days)
    return refuse("calendar_unconfirmed",
                  f"{zh} 所在的 {year} 年节假日安排尚未录入，工作日按周一至周五计算；"
                  f"请系统管理员录入：{cmd}",
                  f"{en[0].upper()}{en[1:]} {'is' if len(days) == 1 else 'are'} in {year}, "
                  f"whose holidays are not in the calendar yet (Monday–Friday is assumed); "
                  f"the system administrator enters them with: {cmd}", field=days[0][0],
                  details={"year": year, "command": cmd,
                           "fields": [name for name, _day in days]})


def openable(rules: RoundRules, today: date) -> list[Refusal]:
    """A round opens only with its dates still ahead (a case never starts already late)."""
    if rules.submission_deadline < today:
        return [refuse("deadline_passed", "报送商务部截止日期已过，请先修改日期再开放申报",
                       "the submission deadline has passed: change the dates before opening",
                       field="submission_deadline")]
    return []
