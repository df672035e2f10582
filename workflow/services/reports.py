"""Use cases of a designated base's reporting duties (002 §四(四)): quarterly data (form or
Excel upload), the annual work report with next year's plan, and the ministry's reference
statistics. Every write is all-or-nothing; a re-filed period keeps its history
(`revision`, one `is_current` row per base and period)."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from workflow import permissions, quarterly_data
from workflow.errors import GuardFailed, Refusal, ValidationFailed, WrongStatus, refuse
from workflow.form import Field, parse_value
from workflow.programme import Programme, QuarterlyTemplate, programme
from workflow.quarterly_data import QuarterData
from workflow.regions import Region
from workflow.roles import Actor
from workflow.rules import CATALOGUES
from workflow.services import cases, files, quarterly_excel
from workflow.services.clock import local_date, utcnow
from workflow.states import DESIGNATED
from workflow.storage import (
    authorities_repo,
    reports_repo,
    rounds_repo,
    scope_repo,
    users_repo,
)
from workflow.storage.models import (
    AnnualReportRow,
    ApplicationRow,
    AttachmentRow,
    EvaluationRow,
    LocalityStatRow,
    QuarterlyReportRow,
    ReferenceStatRow,
    UserRow,
)
from workflow.storage.uow import Conflict, DbSession, UnitOfWork, flush_or_conflict

ANNUAL_REPORT_KIND = "annual_report"  # attachments.kind of a 年度工作报告 file
ANNUAL_REPORT_TYPES = ("pdf", "doc", "docx")
TEXT_MAX = 5000


def _visible(session: DbSession, user: UserRow, app_id: int, today: date
             ) -> tuple[ApplicationRow, Actor]:
    """A case the user may see among the bases, and the actor they are on it: who may see a
    base's quarters, annual reports and evaluations (`reports.view`, in the role's scope of
    cases — workflow.permissions; outside it "not found")."""
    return cases.case_for(session, user, app_id, "reports.view", today, what="base")


def _designated(row: ApplicationRow) -> None:
    """Only a designated base files reports."""
    if row.state not in DESIGNATED:
        raise GuardFailed(refuse("not_a_designated_base", "只有已核准的出口创新基地需要报送数据",
                                 "only designated bases file reports", guard="designated"))


def _base(session: DbSession, user: UserRow, app_id: int, today: date, *,
          write: bool) -> ApplicationRow:
    """A designated base the user may see (and, with `write`, report for)."""
    row, actor = _visible(session, user, app_id, today)
    _designated(row)
    if write:
        permissions.require(actor, "reports.file")
    return row


# --- quarterly data ------------------------------------------------------------------------

def _store_quarters(session: DbSession, row: ApplicationRow, user: UserRow,
                    quarters: list[QuarterData], source: str, now: datetime
                    ) -> list[tuple[int, int, int]]:
    revisions = reports_repo.retire_quarters(session, row.id,
                                             [(q.year, q.quarter) for q in quarters])
    out = []
    for q in quarters:
        rev = revisions[(q.year, q.quarter)]
        session.add(QuarterlyReportRow(
            application_id=row.id, year=q.year, quarter=q.quarter, revision=rev,
            is_current=True, figures=quarterly_data.stored_figures(q.figures),
            enterprises=q.enterprises, source=source,
            submitted_by_id=user.id, submitted_at=now))
        out.append((q.year, q.quarter, rev))
    try:
        flush_or_conflict(session)
    except Conflict:
        raise GuardFailed(refuse("concurrent_report", "同一季度的数据正被他人同时报送，请刷新后重试",
                                 "someone else filed the same quarter at the same moment; "
                                 "reload and try again", guard="revision")) from None
    return out


def submit_quarter(uow: UnitOfWork, user_id: int, app_id: int, data: dict[str, Any],
                   now: datetime | None = None) -> int:
    """File one quarter from the web form or the API; returns its revision number.
    `data`: year, quarter, the base's figures under its programme's column keys (notice
    002's: exports_10k_usd, hightech_exports_10k_usd, enterprise_count), enterprises
    [{name, and the programme's enterprise columns}]."""
    now = now or utcnow()
    today = local_date(now)
    with uow:  # one read of the base: who may file, and what its programme has it report
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row = _base(s, user, app_id, today, write=True)
        quarter, errors = quarterly_data.check_quarter(data, _columns(row), today)
        if quarter is None:
            raise ValidationFailed(*errors)
        [(_, _, rev)] = _store_quarters(s, row, user, [quarter], "form", now)
        uow.record("quarterly_report_filed", application_id=row.id, year=quarter.year,
                   quarter=quarter.quarter, revision=rev)
        uow.commit()
        return rev


def _spreadsheet_check(filename: str, data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise ValidationFailed(refuse("file_too_large",
                                      f"文件超过 {max_bytes // (1024 * 1024)} MB 上限",
                                      f"the file exceeds the {max_bytes // (1024 * 1024)} MB limit",
                                      field="file", details={"max_bytes": max_bytes}))
    ext = filename.rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if ext != "xlsx" or files.sniff(data) != "xlsx":
        raise ValidationFailed(refuse(
            "not_a_spreadsheet", "请上传由系统模板填写的 Excel 文件（.xlsx）",
            "upload an Excel workbook (.xlsx) filled in from the template", field="file",
            details={"value": (filename or "")[:200]}))
    files.check_upload(filename, data, max_bytes, archive_limits=None)  # read_workbook does


def upload_quarters(uow: UnitOfWork, user_id: int, app_id: int, filename: str, data: bytes,
                    max_bytes: int, now: datetime | None = None) -> list[tuple[int, int, int]]:
    """Import quarters from an Excel file: every error (sheet, row, column) or every row;
    never part of it. Returns (year, quarter, revision) of each quarter stored."""
    now = now or utcnow()
    today = local_date(now)
    with uow.read():  # who may file, before the file is looked at
        cols = _columns(_base(uow.session, users_repo.user_by_id(uow.session, user_id), app_id,
                              today, write=True))
    _spreadsheet_check(filename, data, max_bytes)
    quarters, errors = quarterly_excel.read_workbook(data, today, cols)  # no transaction held
    if errors:
        raise ValidationFailed(*errors)
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row = _base(s, user, app_id, today, write=True)
        stored = _store_quarters(s, row, user, quarters, "excel", now)
        uow.record("quarterly_report_filed", application_id=row.id,
                   periods=[[y, q, r] for y, q, r in stored])
        uow.commit()
        return stored


def quarters_of(uow: UnitOfWork, user_id: int, app_id: int) -> list[QuarterlyReportRow]:
    """A base's current quarterly figures, oldest first (the trend chart reads these)."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        _base(s, user, app_id, local_date(utcnow()), write=False)
        return reports_repo.current_quarters(s, app_id)


def quarter_history(uow: UnitOfWork, user_id: int, app_id: int, year: int, quarter: int
                    ) -> list[QuarterlyReportRow]:
    """Every revision filed for one quarter, oldest first."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        _base(s, user, app_id, local_date(utcnow()), write=False)
        return reports_repo.quarter_revisions(s, app_id, year, quarter)


def _quarterly(prog: Programme) -> QuarterlyTemplate:
    """A programme's quarterly template; refused for one whose bases file no quarterly data."""
    if prog.quarterly is None:
        raise GuardFailed(refuse("no_quarterly_data", f"“{prog.name_zh}”不报送季度数据",
                                 f"{prog.name_en}: no quarterly data is filed",
                                 guard="designated"))
    return prog.quarterly


def _columns(row: ApplicationRow) -> quarterly_data.Columns:
    """What the base's programme has it report each quarter (`[[quarterly.columns]]`)."""
    columns = _quarterly(rounds_repo.programme_of_round(row.round)).columns
    assert columns is not None  # a file's [quarterly] has them; a frozen round takes the file's
    return columns


def template_for(uow: UnitOfWork, user_id: int, app_id: int | None = None,
                 code: str | None = None) -> bytes:
    """The Excel template with the columns and heading the programme's definition says
    (`[quarterly]`; notice 002's unless `code` names another); for a base, its programme's,
    named and pre-filled with what is on file."""
    if app_id is None:
        found = _quarterly(programme(code) if code else programme())
        assert found.columns is not None
        return quarterly_excel.template(found.heading_zh, found.columns)
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row = _base(s, user, app_id, local_date(utcnow()), write=False)
        found = _quarterly(rounds_repo.programme_of_round(row.round))
        assert found.columns is not None
        rows = [QuarterData(q.year, q.quarter,
                            quarterly_data.read_figures(q.figures, found.columns.base),
                            list(q.enterprises or []))
                for q in reports_repo.current_quarters(s, app_id)]
        return quarterly_excel.template(found.heading_zh, found.columns,
                                        row.applicant_name or "", rows)


# --- annual work report -----------------------------------------------------------------------

FUNDING = Field("project_funding_10k_cny", "科技兴贸项目资金支持", "Funding of 科技兴贸 projects",
                "money", "万元", "CNY 10k", required=False)


@dataclass
class AnnualSummary:
    """The structured part of the 年度工作报告 and next year's plan."""

    year: int
    summary: str
    next_year_plan: str
    policies_in_force: bool | None
    project_funding_10k_cny: Decimal | None


def _annual_summary(data: dict[str, Any], today: date) -> AnnualSummary:
    errors = []
    try:
        year = int(str(data.get("year", "")).strip())
    except ValueError:
        year = 0
    if not 2006 <= year <= today.year:
        errors.append(refuse("invalid_year", f"年度应在 2006–{today.year} 之间",
                             f"year must be between 2006 and {today.year}", field="year",
                             details={"value": str(data.get("year"))[:20]}))
    texts = {}
    for name, zh, en in (("summary", "年度工作报告摘要", "Summary of the annual report"),
                         ("next_year_plan", "下年度工作思路", "Next year's plan")):
        text = str(data.get(name) or "").strip()
        if not text:
            errors.append(refuse("required", f"{zh}：必填", f"{en}: is required", field=name))
        elif len(text) > TEXT_MAX:
            errors.append(refuse("too_long", f"{zh}：不得超过 {TEXT_MAX} 字",
                                 f"{en}: at most {TEXT_MAX} characters", field=name))
        texts[name] = text
    funding, err = parse_value(FUNDING, data.get(FUNDING.name))
    if err:
        errors.append(err)
    policies = data.get("policies_in_force")
    if isinstance(policies, str):
        policies = {"1": True, "true": True, "yes": True, "on": True, "0": False,
                    "false": False, "no": False, "": None}.get(policies.strip().lower(), "bad")
    if policies not in (True, False, None):
        errors.append(refuse("invalid_choice", "配套政策：请选择是或否",
                             "policies in force: choose yes or no", field="policies_in_force"))
    if errors:
        raise ValidationFailed(*errors)
    return AnnualSummary(year, texts["summary"], texts["next_year_plan"], policies, funding)


def submit_annual_report(uow: UnitOfWork, user_id: int, app_id: int, data: dict[str, Any],
                         filename: str, content: bytes, upload_dir: Path, max_bytes: int,
                         now: datetime | None = None) -> int:
    """File the 年度工作报告 and next year's plan (002 §四(四), due 31 December): a PDF or
    Word file plus the structured summary. Returns the report's id; re-filing keeps history."""
    now = now or utcnow()
    today = local_date(now)
    summary = _annual_summary(data, today)
    name, ctype = files.check_upload(filename, content, max_bytes)
    if name.rsplit(".", 1)[-1].lower() not in ANNUAL_REPORT_TYPES:
        raise ValidationFailed(refuse("unsupported_type", "年度工作报告请上传 PDF、DOC 或 DOCX 文件",
                                      "the annual report must be a PDF, DOC or DOCX file",
                                      field="file", details={"value": name}))
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row = _base(s, user, app_id, today, write=True)
        stored = files.store_bytes(upload_dir, content)
        att = AttachmentRow(application_id=row.id, kind=ANNUAL_REPORT_KIND, filename=name,
                            stored_name=stored, content_type=ctype, size_bytes=len(content),
                            sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=user.id,
                            uploaded_at=now)
        s.add(att)
        s.flush()
        rev = reports_repo.retire_annual(s, row.id, summary.year)
        report = AnnualReportRow(
            application_id=row.id, year=summary.year, revision=rev, summary=summary.summary,
            next_year_plan=summary.next_year_plan, policies_in_force=summary.policies_in_force,
            project_funding_10k_cny=summary.project_funding_10k_cny, attachment_id=att.id,
            is_current=True, submitted_by_id=user.id, submitted_at=now)
        s.add(report)
        try:
            flush_or_conflict(s)
        except Conflict:
            (upload_dir / stored).unlink(missing_ok=True)
            raise GuardFailed(refuse("concurrent_report", "年度工作报告正被他人同时报送，请刷新后重试",
                                     "someone else filed this annual report at the same moment",
                                     guard="revision")) from None
        uow.record("annual_report_filed", application_id=row.id, year=summary.year,
                   revision=rev)
        uow.commit()
        return report.id


def annual_reports_of(uow: UnitOfWork, user_id: int, app_id: int) -> list[AnnualReportRow]:
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        _base(s, user, app_id, local_date(utcnow()), write=False)
        return reports_repo.current_annual_reports(s, app_id)


# --- a base's page ---------------------------------------------------------------------------

@dataclass
class BaseReports:
    """What a designated base's page shows (数据报送与复评), read in one unit of work."""

    base: ApplicationRow
    columns: quarterly_data.Columns  # what it reports each quarter (`[[quarterly.columns]]`)
    quarters: list[QuarterlyReportRow]  # current figures, oldest first
    annual: list[AnnualReportRow]  # current 年度工作报告, newest year first
    evaluations: list[EvaluationRow]  # newest period first
    not_re_evaluated: Refusal | None  # why there are none: its programme has no [assessment]


def base_reports(uow: UnitOfWork, user_id: int, app_id: int) -> BaseReports:
    """A base's quarters, annual reports, evaluations and quarterly columns, after one
    permission and scope check. A base that files no reports (not designated, or its
    programme has no `[quarterly]`) is refused — with why it is not re-evaluated, when
    its programme has no `[assessment]` either."""
    with uow.read():
        s = uow.session
        row, _ = _visible(s, users_repo.user_by_id(s, user_id), app_id, local_date(utcnow()))
        prog = rounds_repo.programme_of_round(row.round)
        why = prog.not_re_evaluated
        try:
            _designated(row)
            columns = _columns(row)
        except GuardFailed:
            if why is not None:  # no reports and no re-evaluation
                raise WrongStatus(why) from None
            raise
        return BaseReports(row, columns, reports_repo.current_quarters(s, app_id),
                           reports_repo.current_annual_reports(s, app_id),
                           [] if why else reports_repo.evaluations_of_base(s, app_id), why)


def evaluations_of(uow: UnitOfWork, user_id: int, app_id: int) -> list[EvaluationRow]:
    """A base's evaluations, newest period first (whoever may see the base's reports); a
    base whose programme has no `[assessment]` is refused with why."""
    with uow.read():
        s = uow.session
        row, _ = _visible(s, users_repo.user_by_id(s, user_id), app_id, local_date(utcnow()))
        why = rounds_repo.programme_of_round(row.round).not_re_evaluated
        if why is not None:
            raise WrongStatus(why)
        return reports_repo.evaluations_of_base(s, app_id)


# --- reference statistics (the ministry) ---------------------------------------------------------

NATIONAL_EXPORTS = Field("national_hightech_exports_100m_usd", "全国高新技术产品出口额",
                         "National high-tech exports", "money", "亿美元", "USD 100M",
                         required=False)
NATIONAL_GROWTH = Field("national_hightech_growth_pct", "全国高新技术产品出口增幅",
                        "National high-tech export growth", "pct", "%", "%", required=False)


def save_reference_stats(uow: UnitOfWork, user_id: int, year: int, data: dict[str, Any],
                         now: datetime | None = None) -> None:
    """The ministry enters a year's national figures and each region's export growth."""
    now = now or utcnow()
    errors = []
    if not 2000 <= int(year) <= local_date(now).year:
        errors.append(refuse("invalid_year", "年度无效", "invalid year", field="year",
                             details={"value": str(year)}))
    clean: dict[str, Any] = {}
    for f in (NATIONAL_EXPORTS, NATIONAL_GROWTH):
        value, err = parse_value(f, data.get(f.name))
        if err:
            errors.append(err)
        clean[f.name] = value
    regions: dict[str, str] = {}
    raw_regions = data.get("region_export_growth_pct") or {}
    for region in Region:
        f = Field(f"region_export_growth_pct.{region.value}", f"{region.zh}地区外贸出口增幅",
                  f"{region.value} export growth", "pct", "%", "%", required=False)
        value, err = parse_value(f, raw_regions.get(region.value))
        if err:
            errors.append(err)
        elif value is not None:
            regions[region.value] = str(value)
    if errors:
        raise ValidationFailed(*errors)
    with uow:
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "reports.reference")
        row = reports_repo.reference_row(s, int(year))
        if row is None:
            row = ReferenceStatRow(year=int(year))
            s.add(row)
        row.national_hightech_exports_100m_usd = clean[NATIONAL_EXPORTS.name]
        row.national_hightech_growth_pct = clean[NATIONAL_GROWTH.name]
        row.region_export_growth_pct = regions
        row.updated_by_id, row.updated_at = user.id, now
        uow.record("reference_statistics_saved", year=int(year), user_id=user.id)
        uow.commit()


LOCALITY_GROWTH = Field("export_growth_pct", "本地区外贸出口增幅", "Local export growth", "pct",
                        "%", "%")
LOCALITY_COLUMNS = ("authority", "year", "export_growth_pct", "source", "catalogue")


def save_locality_stats(uow: UnitOfWork, user_id: int, rows: list[dict[str, Any]],
                        now: datetime | None = None) -> int:
    """The ministry enters or imports authorities' own export growth (本地区外贸出口增幅,
    002 §六(二)(3)), each with its source and catalogue; all rows or none. Returns how many
    were saved (a row for an authority and year already entered replaces it)."""
    now = now or utcnow()
    if not rows:
        raise ValidationFailed(refuse("no_rows", "没有要导入的数据", "no rows to import",
                                      field="rows"))
    errors, clean = [], []
    with uow:
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "reports.reference")
        seen: dict[tuple[str, int], int] = {}
        for i, raw in enumerate(rows):
            row, errs = _locality_row(s, i, raw, now)
            errors += errs
            if row is not None:
                key = (row["authority"].code, row["year"])
                if key in seen:
                    errors.append(refuse(
                        "duplicate_row", f"第 {i + 1} 行与第 {seen[key] + 1} 行重复",
                        f"row {i + 1} repeats row {seen[key] + 1}", field=f"rows[{i}]"))
                seen[key] = i
                clean.append(row)
        if errors:
            raise ValidationFailed(*errors)
        for row in clean:
            found = reports_repo.locality_row(s, row["authority"].id, row["year"])
            if found is None:
                found = LocalityStatRow(authority_id=row["authority"].id, year=row["year"])
                s.add(found)
            found.export_growth_pct, found.source = row["export_growth_pct"], row["source"]
            found.catalogue = row["catalogue"]
            found.updated_by_id, found.updated_at = user.id, now
        uow.record("locality_statistics_saved", rows=len(clean), user_id=user.id)
        uow.commit()
    return len(clean)


def _locality_row(s: DbSession, i: int, raw: Any, now: datetime) -> tuple[
        dict[str, Any] | None, list[Any]]:
    """One row of an import, checked; errors name the row and the field."""
    where = f"rows[{i}]"
    if not isinstance(raw, dict):
        return None, [refuse("invalid_row", f"第 {i + 1} 行格式无效", f"row {i + 1} is malformed",
                             field=where)]
    errors = []
    code = str(raw.get("authority") or "").strip()
    authority = authorities_repo.authority_by_code(s, code) if code else None
    if authority is None:
        errors.append(refuse("unknown_authority", f"第 {i + 1} 行：地区代码无效",
                             f"row {i + 1}: unknown authority", field=f"{where}.authority",
                             details={"value": code}))
    year = None
    try:
        year = int(str(raw.get("year") or "").strip())
    except ValueError:
        pass
    if year is None or not 2000 <= year <= local_date(now).year:
        errors.append(refuse("invalid_year", f"第 {i + 1} 行：年度无效",
                             f"row {i + 1}: invalid year", field=f"{where}.year",
                             details={"value": str(raw.get("year"))}))
    growth, err = parse_value(LOCALITY_GROWTH, raw.get("export_growth_pct"), f"{where}.")
    if err:
        errors.append(err)
    elif growth is None:
        errors.append(refuse("required", f"第 {i + 1} 行：外贸出口增幅未填写",
                             f"row {i + 1}: export growth is required",
                             field=f"{where}.export_growth_pct"))
    source = str(raw.get("source") or "").strip()
    if not source or len(source) > 200:
        errors.append(refuse("invalid_source", f"第 {i + 1} 行：请注明数据来源（200字以内）",
                             f"row {i + 1}: name the source (at most 200 characters)",
                             field=f"{where}.source"))
    catalogue = str(raw.get("catalogue") or "").strip()
    if catalogue not in CATALOGUES:
        errors.append(refuse("invalid_catalogue", f"第 {i + 1} 行：统计目录须为 national 或 local",
                             f"row {i + 1}: the catalogue is national or local",
                             field=f"{where}.catalogue", details={"value": catalogue}))
    if errors:
        return None, errors
    return {"authority": authority, "year": year, "export_growth_pct": growth,
            "source": source, "catalogue": catalogue}, []


def import_locality_csv(uow: UnitOfWork, user_id: int, text: str,
                        now: datetime | None = None) -> int:
    """Import authorities' figures from CSV text whose columns are LOCALITY_COLUMNS (a
    header row naming them is skipped)."""
    lines = [r for r in csv.reader(io.StringIO(text.strip())) if any(c.strip() for c in r)]
    if lines and [c.strip() for c in lines[0]][:1] == ["authority"]:
        lines = lines[1:]
    rows = [dict(zip(LOCALITY_COLUMNS, (c.strip() for c in r), strict=False)) for r in lines]
    return save_locality_stats(uow, user_id, rows, now)


def locality_stats(uow: UnitOfWork, user_id: int) -> list[LocalityStatRow]:
    """Every authority's entered figures, newest year first (visible to reviewers)."""
    with uow.read():
        s = uow.session
        permissions.require(users_repo.user_by_id(s, user_id), "reports.view")
        return reports_repo.locality_rows(s)


def reference_stats(uow: UnitOfWork, user_id: int) -> list[ReferenceStatRow]:
    """Every year's reference statistics, newest first (visible to reviewers)."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        permissions.require(user, "reports.view")
        return reports_repo.reference_rows(s)


def bases_for(uow: UnitOfWork, user_id: int) -> list[ApplicationRow]:
    """The designated bases this user reports for or supervises."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        permissions.require(user, "reports.view")
        principals = scope_repo.principals_of(s, user.id, local_date(utcnow()))
        return reports_repo.designated_in_scope(s, scope_repo.scope_filter(user, principals))
