"""The register of export bases (出口基地名录): reading it, and importing the national bases."""

from __future__ import annotations

import io
from typing import Any

from flask import current_app, request, send_file
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.errors import MULTIPART_ENDPOINTS, too_many
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from web.security import UPLOAD_LIMIT, UPLOAD_TOO_MANY
from workflow.errors import ValidationFailed, refuse
from workflow.register import BaseStatus, BaseType
from workflow.services import bases

bp = Blueprint("bases_api", __name__, url_prefix="/api/v1/bases",
               description="The register of export bases (出口基地名录): national high-tech "
                           "product, pharmaceutical and software export bases, and the export "
                           "innovation bases designated here")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TYPES = [t.value for t in BaseType]
STATUSES = [s.value for s in BaseStatus]


class ListArgs(Schema):
    authority = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"),
                              metadata={"description": "GB/T 2260 code", "example": "420000"})
    type = fields.String(validate=validate.OneOf(TYPES), metadata={"example": "hightech"})
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"example": "designated"})


class EventOut(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    effective_on = fields.Date(required=True)
    decision = fields.String(required=True, metadata={
        "description": "import, or the ministry's trigger: approve, order_rectification, "
                       "keep_designation, revoke"})
    document = fields.String(allow_none=True, metadata={"example": "商科技发[2003]256号"})
    reason = fields.String(allow_none=True)
    application_id = fields.Integer(allow_none=True)


class BaseOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"example": "武汉国家高新技术产品出口基地"})
    authority = fields.String(required=True, metadata={"example": "420000"})
    region = fields.String(required=True, metadata={"example": "central"})
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    designation_document = fields.String(allow_none=True, metadata={
        "description": "认定文号", "example": "外经贸技发[2001]459号"})
    designated_on = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_since = fields.Date(required=True)
    application_id = fields.Integer(allow_none=True, metadata={
        "description": "designated here: the case it was approved in (its quarterly and "
                       "annual reports are filed under /api/v1/applications/{id})"})
    industry_field = fields.String(allow_none=True)
    recertifies_id = fields.Integer(allow_none=True, metadata={
        "description": "the national base this export innovation base re-certified"})
    recertified_by_id = fields.Integer(allow_none=True, metadata={
        "description": "the export innovation base this national base became"})
    note = fields.String(allow_none=True)


class BaseDetailOut(BaseOut):
    events = fields.List(fields.Nested(EventOut), required=True, metadata={
        "description": "its status over time, oldest first"})


class ImportOut(Schema):
    added = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)


def base_out(e: bases.Entry) -> dict[str, Any]:
    r = e.row
    return {"id": r.id, "name": r.name, "authority": r.authority.code,
            "region": r.authority.region, "type": r.base_type,
            "designation_document": r.designation_document, "designated_on": r.designated_on,
            "status": r.status, "status_since": r.status_since,
            "application_id": r.application_id, "industry_field": r.industry_field,
            "recertifies_id": r.recertifies_id,
            "recertified_by_id": e.recertified_by.id if e.recertified_by else None,
            "note": r.note}


@bp.route("")
@declares(get="register.view")
class Bases(MethodView):
    @bp.arguments(ListArgs, location="query")
    @bp.response(200, BaseOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The register, filtered by authority, type and status (ministry reviewers: every
        authority; provinces and applicants: their own)."""
        return [base_out(e) for e in bases.listing(
            uow(), api_user_id(), authority=args.get("authority"), base_type=args.get("type"),
            status=args.get("status"))]


@bp.route("/<int(max=2147483647):base_id>")
@declares(get="register.view")
class OneBase(MethodView):
    @bp.response(200, BaseDetailOut)
    def get(self, base_id: int) -> Any:
        """One base with its status over time: each change, its date, decision and document."""
        e = bases.entry(uow(), api_user_id(), base_id)
        return {**base_out(e), "events": e.events}


@bp.route("/import")
@declares(post="register.import")
class Import(MethodView):
    decorators = [UPLOAD_LIMIT]  # uploads per user (429 rate_limited)

    @bp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {
            "type": "string", "format": "binary",
            "description": "the register of national bases: .xlsx (GET /api/v1/bases/"
                           "template) or .csv (UTF-8 or GB 18030), heading row first"}}}}}})
    @bp.response(200, ImportOut)
    @bp.alt_response(429, **too_many(UPLOAD_TOO_MANY))
    def post(self) -> Any:
        """Import national bases (ministry reviewers): every row or none — each error names
        its row and column (field rows[N].column); a base already in the register (same
        authority, type and name) is brought up to the file, a change of status recorded."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationFailed(refuse("required", "文件：必填", "file: is required",
                                          field="file"))
        limit = int(current_app.config["SETTINGS"].max_upload_mb) * 1024 * 1024
        done = bases.import_file(uow(), api_user_id(), upload.filename, upload.read(), limit)
        return {"added": done.added, "updated": done.updated, "unchanged": done.unchanged}


MULTIPART_ENDPOINTS["bases_api.Import"] = ("multipart/form-data",)


@bp.route("/template")
@declares(get="register.view")
class Template(MethodView):
    @bp.doc(responses={"200": {"description": "the Excel template of the register",
                               "content": {XLSX: {"schema": {"type": "string",
                                                             "format": "binary"}}}}})
    def get(self) -> Any:
        """The Excel template for an import of the register."""
        data = bases.template_for(uow(), api_user_id())
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name="bases-register-template.xlsx")
