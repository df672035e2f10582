"""The public notice (网上公示) and objections (异议): public reading and filing; the
ministry's queue, uphold and dismiss."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.errors import too_many
from web.api.schemas import decimal
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import client_ip, limiter, uow
from workflow.services import bases, notice, objections

bp = Blueprint("notices_api", __name__, url_prefix="/api/v1",
               description="Public notice (网上公示, 002 §六(三)) and objections (异议)")
PUBLIC: dict[str, Any] = {"security": []}


class PublicCaseOut(Schema):
    id = fields.Integer(required=True)
    applicant_name = fields.String(allow_none=True)
    authority_zh = fields.String(required=True)
    authority_en = fields.String(required=True)
    region = fields.String(required=True)
    kind = fields.String(required=True)
    industry_field = fields.String(allow_none=True)
    existing_base_type = fields.String(allow_none=True)
    characteristic_industry = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    enterprise_count = fields.Integer(allow_none=True)
    exports_100m_usd = decimal(allow_none=True)
    hightech_exports_100m_usd = decimal(allow_none=True)
    hightech_export_growth_pct = decimal(allow_none=True)
    round_year = fields.Integer(required=True)
    notice_published_on = fields.Date(allow_none=True)
    notice_ends_on = fields.Date(allow_none=True)
    working_days_left = fields.Integer(allow_none=True)
    open_for_objections = fields.Boolean(required=True)


class RoundNoticeOut(Schema):
    year = fields.Integer(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    published_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    working_days_left = fields.Integer(allow_none=True)
    cases = fields.List(fields.Nested(PublicCaseOut), required=True)


class PublicBaseOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    authority_zh = fields.String(required=True)
    authority_en = fields.String(required=True)
    region = fields.String(required=True)
    base_type = fields.String(required=True, metadata={
        "enum": ["hightech", "pharmaceutical", "software", "innovation"]})
    industry_field = fields.String(allow_none=True)
    designated_on = fields.Date(required=True)
    designation_document = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={
        "enum": ["designated", "rectifying", "revoked"]})
    status_since = fields.Date(required=True)
    status_decision = fields.String(allow_none=True)
    status_document = fields.String(allow_none=True)


class PublicBasesArgs(Schema):
    type = fields.String(metadata={
        "description": "hightech, pharmaceutical, software or innovation"})
    status = fields.String(metadata={"description": "designated, rectifying or revoked"})


class ObjectionIn(Schema):
    name = fields.String(required=True, validate=validate.Length(max=100),
                         metadata={"example": "陈群众"})
    contact = fields.String(required=True, validate=validate.Length(max=200),
                            metadata={"example": "chen@example.com"})
    text = fields.String(required=True, validate=validate.Length(max=5000),
                         metadata={"example": "主要出口产品数据与海关统计不符，存在重复计算。"})


class ObjectionFiled(Schema):
    confirmation_no = fields.String(required=True, metadata={"example": "YY20060502123456"})


class ObjectionOut(Schema):
    id = fields.Integer(required=True)
    confirmation_no = fields.String(required=True)
    name = fields.String(required=True)
    contact = fields.String(required=True)
    text = fields.String(required=True)
    filed_at = fields.DateTime(required=True)
    application_id = fields.Integer(required=True)
    applicant_name = fields.String(allow_none=True)
    authority_zh = fields.String(required=True)
    authority_en = fields.String(required=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)
    notice_ends_on = fields.Date(allow_none=True)
    attachment_id = fields.Integer(allow_none=True)
    attachment_name = fields.String(allow_none=True)


class UpholdIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=2000),
                           metadata={"example": "经核查，异议所述主要出口产品数据重复计算属实"})
    version = fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1), metadata={
        "description": "the case's version you read (409 if it moved on)"})


class DismissIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=2000),
                           metadata={"example": "经核查，异议所述情况不属实"})


class UpheldOut(Schema):
    id = fields.Integer(required=True)
    trigger = fields.String(required=True)
    from_state = fields.String(required=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)


@bp.route("/notices")
class Notices(MethodView):
    @bp.doc(**PUBLIC)
    @bp.response(200, RoundNoticeOut(many=True))
    def get(self) -> Any:
        """Cases under public notice now, per round (no login; no personal data)."""
        return [asdict(n) for n in notice.current_notices(uow())]


@bp.route("/public/bases")
class PublicBases(MethodView):
    @bp.doc(**PUBLIC)
    @bp.arguments(PublicBasesArgs, location="query")
    @bp.response(200, PublicBaseOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The register of bases (no login): every base with its designation date and
        document, type and status now (rectifying, revoked: with the decision and date)."""
        return [asdict(b) for b in bases.public_register(uow(), base_type=args.get("type"),
                                                         status=args.get("status"))]


@bp.route("/notices/<int(max=2147483647):app_id>")
class OneNotice(MethodView):
    @bp.doc(**PUBLIC)
    @bp.response(200, PublicCaseOut)
    def get(self, app_id: int) -> Any:
        """One case under notice (404 for anything not under notice)."""
        return asdict(notice.public_case(uow(), app_id))


@bp.route("/notices/<int(max=2147483647):app_id>/objections")
class FileObjection(MethodView):
    decorators = [limiter.limit("10 per minute", methods=["POST"])]

    @bp.doc(**PUBLIC)
    @bp.arguments(ObjectionIn, example={"name": "陈群众", "contact": "chen@example.com",
                                        "text": "主要出口产品数据与海关统计不符，存在重复计算。"})
    @bp.response(201, ObjectionFiled)
    @bp.alt_response(429, **too_many("more than 10 objections a minute from one address"))
    def post(self, data: dict[str, Any], app_id: int) -> Any:
        """File an objection while the notice runs (anyone; keep the confirmation number)."""
        number = objections.file_objection(uow(), app_id, data["name"], data["contact"],
                                           data["text"], ip=client_ip())
        return {"confirmation_no": number}


@bp.route("/objections")
@declares(get="objections.decide")
class Objections(MethodView):
    @bp.response(200, ObjectionOut(many=True))
    def get(self) -> Any:
        """Open objections, oldest first, with the filer's contact (ministry only)."""
        return [asdict(o) for o in notice.open_objections(uow(), api_user_id())]


@bp.route("/objections/<int(max=2147483647):objection_id>/uphold")
@declares(post="objections.decide")
class Uphold(MethodView):
    @bp.arguments(UpholdIn)
    @bp.response(200, UpheldOut)
    def post(self, data: dict[str, Any], objection_id: int) -> Any:
        """Uphold: the case leaves the notice as objection_upheld (ministry)."""
        fired = objections.uphold(uow(), api_user_id(), objection_id, data["reason"],
                                  data.get("version"))
        return {"id": fired.application_id, "trigger": fired.trigger,
                "from_state": fired.from_state, "state": fired.to_state,
                "version": fired.version}


@bp.route("/objections/<int(max=2147483647):objection_id>/dismiss")
@declares(post="objections.decide")
class Dismiss(MethodView):
    @bp.arguments(DismissIn)
    @bp.response(204)
    def post(self, data: dict[str, Any], objection_id: int) -> Any:
        """Dismiss with a reason: the case stays under notice (ministry)."""
        objections.dismiss(uow(), api_user_id(), objection_id, data["reason"])
        return None
