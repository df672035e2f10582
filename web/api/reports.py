"""A designated base's reporting duties (002 §四(四)): quarterly data (JSON or the Excel
template), annual work reports; the ministry's reference statistics."""

from __future__ import annotations

import io
from typing import Any

from flask import current_app, request, send_file
from flask.views import MethodView
from marshmallow import INCLUDE, Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.errors import MULTIPART_ENDPOINTS, too_many
from web.api.schemas import decimal
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from web.security import UPLOAD_LIMIT, UPLOAD_TOO_MANY
from workflow.errors import ValidationFailed, refuse
from workflow.form import Field
from workflow.programme import known, programme
from workflow.regions import Region
from workflow.services import reports

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1",
               description="Reports of designated bases (每季度上报, 年度工作报告) and "
                           "reference statistics")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUM = {"type": ["number", "string"]}  # apispec adds "null"
APP = "/applications/<int(max=2147483647):app_id>"


def _file(field: str = "file") -> Any:
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        raise ValidationFailed(refuse("required", "文件：必填", "file: is required", field=field))
    return upload


def _max_bytes() -> int:
    return int(current_app.config["SETTINGS"].max_upload_mb) * 1024 * 1024


def _base_columns() -> list[Field]:
    """The base-level quarterly columns of every programme (`[[quarterly.columns]]`, notice
    002's first), by key: the API's quarterly schema is theirs."""
    seen: dict[str, Field] = {}
    for p in sorted(known(), key=lambda p: p.code != programme().code):
        for f in (p.quarterly.columns.base if p.quarterly and p.quarterly.columns else ()):
            seen.setdefault(f.name, f)
    return list(seen.values())


def _figure(f: Field, output: bool) -> fields.Field:
    """One base figure as the API reads (`output` False) or writes it, from its column."""
    meta: dict[str, Any] = {"description": f"{f.zh} / {f.en}" + (
        f" ({f.unit_zh})" if f.unit_zh else "")}
    if not output:
        return fields.Raw(allow_none=True, metadata={
            **meta, **({"type": "string"} if f.kind == "text" else NUM)})
    if f.kind == "text":
        return fields.String(allow_none=True, attribute=f"figures.{f.name}", metadata=meta)
    if f.kind == "int":
        return fields.Integer(allow_none=True, attribute=f"figures.{f.name}", metadata=meta)
    return decimal(allow_none=True, attribute=f"figures.{f.name}", metadata=meta)


class EnterpriseIn(Schema):
    """A key enterprise's row: its name and the figures of its programme's enterprise
    columns (`[[quarterly.columns]]`; notice 002's below); another key is refused by name."""

    class Meta:
        unknown = INCLUDE  # the programme's columns decide, in the service

    name = fields.String(allow_none=True, metadata={"example": "武汉光迅科技股份有限公司"})
    exports_10k_usd = fields.Raw(allow_none=True, metadata={**NUM, "example": "1200"})
    hightech_exports_10k_usd = fields.Raw(allow_none=True, metadata={**NUM, "example": "900"})


class _QuarterIn(Schema):
    """A quarter: its year and quarter, the base's figures under its programme's column
    keys (each programme's below; another key is refused by name), its key enterprises."""

    class Meta:
        unknown = INCLUDE  # a programme's columns decide, in the service


QuarterIn = _QuarterIn.from_dict({
    "year": fields.Raw(required=True, metadata={"type": ["integer", "string"], "example": 2006}),
    "quarter": fields.Raw(required=True, metadata={"type": ["integer", "string"],
                                                   "example": 3}),
    **{f.name: _figure(f, False) for f in _base_columns()},
    "enterprises": fields.List(fields.Nested(EnterpriseIn), allow_none=True),
}, name="QuarterIn")

QuarterOut = Schema.from_dict({
    "year": fields.Integer(required=True),
    "quarter": fields.Integer(required=True),
    "revision": fields.Integer(required=True),
    **{f.name: _figure(f, True) for f in _base_columns()},
    "figures": fields.Dict(required=True, metadata={
        "description": "the base's figures by its programme's column keys (decimals as "
                       "their exact text)"}),
    "enterprises": fields.List(fields.Dict()),
    "source": fields.String(required=True, metadata={"example": "api"}),
    "submitted_at": fields.DateTime(required=True),
}, name="QuarterOut")


class QuarterFiled(Schema):
    year = fields.Integer(required=True)
    quarter = fields.Integer(required=True)
    revision = fields.Integer(required=True)


class AnnualOut(Schema):
    id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    revision = fields.Integer(required=True)
    summary = fields.String(required=True)
    next_year_plan = fields.String(required=True)
    policies_in_force = fields.Boolean(allow_none=True)
    project_funding_10k_cny = decimal(allow_none=True)
    attachment_id = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime(required=True)


class AnnualFiled(Schema):
    id = fields.Integer(required=True)


class ReferenceIn(Schema):
    national_hightech_exports_100m_usd = fields.Raw(allow_none=True, metadata={
        **NUM, "description": "全国高新技术产品出口额（亿美元）", "example": "2182"})
    national_hightech_growth_pct = fields.Raw(allow_none=True, metadata={
        **NUM, "description": "全国高新技术产品出口增幅（%）", "example": "31.8"})
    region_export_growth_pct = fields.Dict(
        keys=fields.String(validate=validate.OneOf([r.value for r in Region])),
        values=fields.Raw(allow_none=True, metadata=NUM), allow_none=True,
        metadata={"example": {"east": "28.1", "central": "25.3", "west": "24.2",
                              "northeast": "26.0"}})


class ReferenceOut(Schema):
    year = fields.Integer(required=True)
    national_hightech_exports_100m_usd = decimal(allow_none=True)
    national_hightech_growth_pct = decimal(allow_none=True)
    region_export_growth_pct = fields.Dict(required=True)
    updated_at = fields.DateTime(allow_none=True)


class LocalityIn(Schema):
    authority = fields.String(required=True, metadata={
        "description": "地区代码（省级或地级市）", "example": "330000"})
    year = fields.Raw(required=True, metadata={"type": ["integer", "string"], "example": 2005})
    export_growth_pct = fields.Raw(required=True, metadata={
        **NUM, "description": "本地区外贸出口增幅（%）", "example": "27.4"})
    source = fields.String(required=True, metadata={
        "description": "数据来源", "example": "浙江省统计局《2005年国民经济和社会发展统计公报》"})
    catalogue = fields.String(required=True, metadata={
        "description": "统计目录：national（国家高新技术产品出口目录）或 local（地方目录）",
        "example": "national"})


class LocalitiesIn(Schema):
    rows = fields.List(fields.Raw(), required=True, metadata={
        "description": "每行一个地区一年的数字（字段见 LocalityIn）；全部有效才保存",
        "example": [{"authority": "330000", "year": 2005, "export_growth_pct": "27.4",
                     "source": "浙江省统计局", "catalogue": "national"}]})


class LocalityOut(Schema):
    authority = fields.String(attribute="authority.code", required=True)
    authority_zh = fields.String(attribute="authority.name_zh", required=True)
    authority_en = fields.String(attribute="authority.name_en", required=True)
    year = fields.Integer(required=True)
    export_growth_pct = decimal(required=True)
    source = fields.String(required=True)
    catalogue = fields.String(required=True)
    updated_at = fields.DateTime(allow_none=True)


class LocalitiesSaved(Schema):
    saved = fields.Integer(required=True)


@bp.route(f"{APP}/quarterly-reports")
@declares(get="reports.view", post="reports.file")
class Quarters(MethodView):
    @bp.response(200, QuarterOut(many=True))
    def get(self, app_id: int) -> Any:
        """A base's current quarterly figures, oldest first."""
        return reports.quarters_of(uow(), api_user_id(), app_id)

    @bp.arguments(QuarterIn, example={
        "year": 2006, "quarter": 3, "exports_10k_usd": "52000",
        "hightech_exports_10k_usd": "31000", "enterprise_count": 120,
        "enterprises": [{"name": "武汉光迅科技股份有限公司", "exports_10k_usd": "1200",
                         "hightech_exports_10k_usd": "900"}]})
    @bp.response(201, QuarterFiled)
    def post(self, data: dict[str, Any], app_id: int) -> Any:
        """File one quarter (每季度上报); filing it again adds a revision."""
        revision = reports.submit_quarter(uow(), api_user_id(), app_id, data)
        return {"year": int(data["year"]), "quarter": int(data["quarter"]),
                "revision": revision}


@bp.route(f"{APP}/quarterly-reports/excel")
@declares(post="reports.file")
class QuarterExcel(MethodView):
    decorators = [UPLOAD_LIMIT]  # uploads per user (429 rate_limited)

    @bp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {
            "type": "string", "format": "binary",
            "description": "the .xlsx template filled in (GET /api/v1/quarterly-template)"}}}}}})
    @bp.response(201, QuarterFiled(many=True))
    @bp.alt_response(429, **too_many(UPLOAD_TOO_MANY))
    def post(self, app_id: int) -> Any:
        """Upload quarters from the Excel template: all rows or none, every error named."""
        upload = _file()
        stored = reports.upload_quarters(uow(), api_user_id(), app_id, upload.filename,
                                         upload.read(), _max_bytes())
        return [{"year": y, "quarter": q, "revision": r} for y, q, r in stored]


MULTIPART_ENDPOINTS["reports_api.QuarterExcel"] = ("multipart/form-data",)


@bp.route("/quarterly-template")
@declares(get="reports.view")
class Template(MethodView):
    @bp.arguments(Schema.from_dict({"application_id": fields.Integer(
        validate=validate.Range(1, 2**31 - 1))}, name="TemplateArgs")(), location="query")
    @bp.doc(responses={"200": {"description": "the Excel template",
                               "content": {XLSX: {"schema": {"type": "string",
                                                             "format": "binary"}}}}})
    def get(self, args: dict[str, Any]) -> Any:
        """The quarterly Excel template (for a base: pre-filled with what is on file)."""
        data = reports.template_for(uow(), api_user_id(), args.get("application_id"))
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name="quarterly-template.xlsx")


@bp.route(f"{APP}/annual-reports")
@declares(get="reports.view", post="reports.file")
class Annual(MethodView):
    decorators = [UPLOAD_LIMIT]  # POST only: uploads per user (429 rate_limited)

    @bp.response(200, AnnualOut(many=True))
    def get(self, app_id: int) -> Any:
        """A base's current annual reports (年度工作报告), one per year."""
        return reports.annual_reports_of(uow(), api_user_id(), app_id)

    @bp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["year", "summary", "next_year_plan", "file"],
        "properties": {
            "year": {"type": "integer", "example": 2006},
            "summary": {"type": "string", "maxLength": 5000},
            "next_year_plan": {"type": "string", "maxLength": 5000},
            "policies_in_force": {"type": "boolean"},
            "project_funding_10k_cny": {"type": "string", "example": "1200"},
            "file": {"type": "string", "format": "binary",
                     "description": "PDF, DOC or DOCX"}}}}}})
    @bp.response(201, AnnualFiled)
    @bp.alt_response(429, **too_many(UPLOAD_TOO_MANY))
    def post(self, app_id: int) -> Any:
        """File the annual work report and next year's plan (due 31 December, 002 §四(四))."""
        uid = api_user_id()
        upload = _file()
        report_id = reports.submit_annual_report(
            uow(), uid, app_id, request.form.to_dict(), upload.filename, upload.read(),
            current_app.config["SETTINGS"].upload_dir, _max_bytes())
        return {"id": report_id}


MULTIPART_ENDPOINTS["reports_api.Annual"] = ("multipart/form-data",)


@bp.route("/reference-statistics")
@declares(get="reports.view")
class References(MethodView):
    @bp.response(200, ReferenceOut(many=True))
    def get(self) -> Any:
        """National and regional figures the criteria compare against, newest first."""
        return reports.reference_stats(uow(), api_user_id())


@bp.route("/reference-statistics/<int(max=9999):year>")
@declares(put="reports.reference")
class OneReference(MethodView):
    @bp.arguments(ReferenceIn)
    @bp.response(204)
    def put(self, data: dict[str, Any], year: int) -> Any:
        """Enter a year's reference statistics (ministry)."""
        reports.save_reference_stats(uow(), api_user_id(), year, data)
        return None


@bp.route("/reference-statistics/localities")
@declares(get="reports.view", post="reports.reference")
class Localities(MethodView):
    @bp.response(200, LocalityOut(many=True))
    def get(self) -> Any:
        """Each province's and city's own export growth (本地区外贸出口增幅, 002 §六(二)(3)),
        newest year first."""
        return reports.locality_stats(uow(), api_user_id())

    @bp.arguments(LocalitiesIn)
    @bp.response(200, LocalitiesSaved)
    def post(self, data: dict[str, Any]) -> Any:
        """Enter or import authorities' figures (ministry): all rows or none; an authority
        and year already entered is replaced."""
        return {"saved": reports.save_locality_stats(uow(), api_user_id(), data["rows"])}
