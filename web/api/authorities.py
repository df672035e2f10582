"""The tree of authorities, kept by the system administrator (系统管理员): prefecture-level
cities under the 37 province-level authorities of 002 — add, rename, class, deactivate,
delete (while it holds nothing), and import a list (Excel or CSV)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.errors import MULTIPART_ENDPOINTS
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from workflow.authorities import KIND_ZH
from workflow.errors import ValidationFailed, refuse
from workflow.regions import Region
from workflow.services import authorities

bp = Blueprint("authorities_api", __name__, url_prefix="/api/v1/admin/authorities",
               description="The tree of authorities (省级单位 and 地级市), kept by the system "
                           "admin (系统管理员)")

REGIONS = [r.value for r in Region]
CODE = "<string(maxlength=20):code>"
IMPORT_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description":
                 ".xlsx (first sheet) or .csv (UTF-8 or GB 18030); row 1 holds the headings "
                 "code / 代码, name / 名称, parent / 上级代码, and optionally name_en / 英文名称, "
                 "region / 地区 (blank: the province's)"}}}}}}}


class AuthorityAdminOut(Schema):
    code = fields.String(required=True, metadata={"example": "422800"})
    name_zh = fields.String(required=True, metadata={"example": "恩施土家族苗族自治州"})
    name_en = fields.String(required=True, metadata={"example": "Enshi"})
    kind = fields.String(required=True, validate=validate.OneOf(sorted(KIND_ZH)))
    region = fields.String(required=True, validate=validate.OneOf(REGIONS), metadata={
        "description": "the region the criteria use (002 §六(二)(2))", "example": "west"})
    region_overridden = fields.Boolean(required=True, metadata={
        "description": "true: the city's own class; false: its province's region"})
    is_active = fields.Boolean(required=True)
    parent = fields.String(required=True, allow_none=True, attribute="parent_code",
                           metadata={"example": "420000",
                                     "description": "null for a province-level authority"})
    cases = fields.Integer(required=True, metadata={"description": "applications it drafted"})
    accounts = fields.Integer(required=True)


class CityIn(Schema):
    code = fields.String(required=True, validate=validate.Length(max=20), metadata={
        "example": "422800", "description": "GB/T 2260 prefecture-level code under the parent"})
    name_zh = fields.String(required=True, validate=validate.Length(max=200),
                            metadata={"example": "恩施土家族苗族自治州"})
    name_en = fields.String(load_default="", validate=validate.Length(max=200),
                            metadata={"example": "Enshi"})
    parent = fields.String(required=True, validate=validate.Length(max=20), metadata={
        "example": "420000", "description": "a province or autonomous region"})
    region = fields.String(load_default="", validate=validate.Length(max=20), metadata={
        "example": "west", "description": f"one of {', '.join(REGIONS)}; blank: the "
                                          "province's region"})


class CityChange(Schema):
    name_zh = fields.String(validate=validate.Length(max=200))
    name_en = fields.String(validate=validate.Length(max=200))
    region = fields.String(allow_none=True, validate=validate.Length(max=20), metadata={
        "description": "a region of its own, or null / blank for the province's"})


class AuthorityActiveIn(Schema):
    active = fields.Boolean(required=True)


class CityImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "check the list and say what it would do; store nothing"})


class CityImportOut(Schema):
    created = fields.List(fields.String(), required=True, metadata={"example": ["420100"]})
    updated = fields.List(fields.String(), required=True)
    unchanged = fields.List(fields.String(), required=True)
    dry_run = fields.Boolean(required=True)


def _one(code: str) -> authorities.Entry:
    found = [e for e in authorities.listing(uow(), api_user_id()) if e.code == code]
    return found[0]


@bp.route("")
@declares(get="authorities.admin", post="authorities.admin")
class Authorities(MethodView):
    @bp.response(200, AuthorityAdminOut(many=True))
    def get(self) -> Any:
        """Every authority, each province-level one followed by its cities, with the cases
        and accounts each holds (system admin)."""
        return authorities.listing(uow(), api_user_id())

    @bp.arguments(CityIn)
    @bp.response(201, AuthorityAdminOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a prefecture-level city under a province or autonomous region (system
        admin); `region` blank: the province's."""
        return authorities.add_city(uow(), api_user_id(), data)


@bp.route(f"/{CODE}")
@declares(patch="authorities.admin", delete="authorities.admin")
class Authority(MethodView):
    @bp.arguments(CityChange)
    @bp.response(200, AuthorityAdminOut)
    def patch(self, data: dict[str, Any], code: str) -> Any:
        """Rename a city or class it (`region`: its own, or null for the province's)."""
        if data.get("region", "") is None:
            data["region"] = ""
        authorities.change_city(uow(), api_user_id(), code, data)
        return _one(code)

    @bp.response(204)
    def delete(self, code: str) -> Any:
        """Delete a city entered by mistake: only one without cases or accounts (a city
        with cases is deactivated instead; its history stays)."""
        authorities.delete_city(uow(), api_user_id(), code)
        return None


@bp.route(f"/{CODE}/active")
@declares(put="authorities.admin")
class Active(MethodView):
    @bp.arguments(AuthorityActiveIn)
    @bp.response(200, AuthorityAdminOut)
    def put(self, data: dict[str, Any], code: str) -> Any:
        """Deactivate a city (it starts no application and gets no account; its cases and
        history stay) or activate it again."""
        authorities.set_active(uow(), api_user_id(), code, data["active"])
        return _one(code)


@bp.route("/import")
@declares(post="authorities.admin")
class Import(MethodView):
    @bp.doc(**IMPORT_DOC)
    @bp.arguments(CityImportArgs, location="query")
    @bp.response(200, CityImportOut)
    def post(self, args: dict[str, Any]) -> Any:
        """Import a list of cities (multipart/form-data: file). Every row is checked first;
        if any is wrong nothing is stored and each error names its row and field. Cities on
        file are brought up to date; cities the list does not name are left alone."""
        uid = api_user_id()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationFailed(refuse("required", "文件：必填", "file: is required",
                                          field="file"))
        max_bytes = current_app.config["SETTINGS"].max_upload_mb * 1024 * 1024
        use = authorities.check_list if args["dry_run"] else authorities.import_list
        done = use(uow(), uid, upload.filename, upload.read(), max_bytes)
        return {**done.as_dict(), "dry_run": args["dry_run"]}


MULTIPART_ENDPOINTS["authorities_api.Import"] = ("multipart/form-data",)
