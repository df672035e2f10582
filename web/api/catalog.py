"""Reference data: the 37 authorities, the rounds with their calendar and criteria, and `me`."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from workflow.regions import Region
from workflow.roles import Role
from workflow.rules import RoundStatus
from workflow.services import catalog, rounds

bp = Blueprint("catalog_api", __name__, url_prefix="/api/v1",
               description="Authorities (省级商务主管部门 and 地级市), rounds (申报年度) and the caller")

REGIONS = [r.value for r in Region]


class AuthorityOut(Schema):
    code = fields.String(required=True, metadata={"description": "GB/T 2260", "example": "420000"})
    name_zh = fields.String(required=True, metadata={"example": "湖北省"})
    name_en = fields.String(required=True, metadata={"example": "Hubei"})
    region = fields.String(required=True, validate=validate.OneOf(REGIONS),
                           metadata={"example": "central"})
    kind = fields.String(required=True, metadata={
        "example": "province", "description": "province, municipality, autonomous_region, "
        "separately_planned_city, xpcc; a city: prefecture_city, autonomous_prefecture, "
        "prefecture, league"})
    has_existing_bases = fields.Boolean(required=True, metadata={
        "description": "已有出口基地: the register of bases (GET /api/v1/bases) holds one of "
                       "its bases that is not revoked; decides the quota (002 §六(三))"})
    parent = fields.String(allow_none=True, required=True, attribute="parent_code", metadata={
        "description": "a prefecture-level city's province-level authority "
        "(it reviews and recommends the city's cases); null for the 37 of 002"})
    region_overridden = fields.Boolean(required=True, metadata={
        "description": "a city classed apart from its province's region (e.g. a "
                       "western-development prefecture: west)"})
    is_active = fields.Boolean(required=True, metadata={
        "description": "false: a deactivated city (its cases stay; it starts no new one)"})


class CalendarOut(Schema):
    provincial_internal_deadline = fields.Date(allow_none=True)
    submission_deadline = fields.Date(required=True, metadata={"example": "2006-04-30"})
    approval_deadline = fields.Date(required=True, metadata={"example": "2006-05-31"})
    notice_working_days = fields.Integer(required=True, metadata={"example": 5})
    annual_report_due = fields.String(required=True, metadata={"example": "12-31"})
    reminder_days_before = fields.List(fields.Integer(), required=True)
    rectification_working_days = fields.Integer(required=True)


class RoundOut(Schema):
    year = fields.Integer(required=True, metadata={"example": 2006})
    name_zh = fields.String(required=True, metadata={"example": "2006年度出口创新基地申报"})
    name_en = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in RoundStatus]),
                           metadata={"description": "planned, open (applications are drafted "
                                                    "only in an open round) or closed"})
    opened_on = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    programme = fields.String(required=True, metadata={"example": "mofcom-2006-6"})
    programme_hash = fields.String(allow_none=True, metadata={
        "description": "sha256 of the definition the round opened with (null: planned)"})
    calendar = fields.Nested(CalendarOut, required=True)
    params = fields.Dict(required=True, metadata={
        "description": "RoundRules.to_json(): thresholds (US$ millions), quotas, fields, "
                       "deadlines — 002 §五, §六"})


class RoundWarning(Schema):
    code = fields.String(required=True, metadata={"example": "not_a_working_day"})
    field = fields.String(allow_none=True, metadata={"example": "submission_deadline"})
    message_zh = fields.String(required=True)
    message_en = fields.String(required=True)
    details = fields.Dict()


class RoundChanged(RoundOut):
    warnings = fields.List(fields.Nested(RoundWarning), required=True, metadata={
        "description": "what to look at before opening: a deadline on a day off, or in a year "
                       "whose holidays are not in the calendar yet (with the admin command)"})


class RoundIn(Schema):
    """What the programme's owner sets before the round opens (002 §五(二), §六(三))."""

    name_zh = fields.String(validate=validate.Length(max=100))
    name_en = fields.String(validate=validate.Length(max=100))
    provincial_internal_deadline = fields.String(allow_none=True,
                                                 metadata={"example": "2007-04-13"})
    submission_deadline = fields.String(metadata={"example": "2007-04-30"})
    approval_deadline = fields.String(metadata={"example": "2007-05-31"})
    notice_working_days = fields.Raw(metadata={"example": 5})
    new_base_fields = fields.List(fields.String(), metadata={
        "example": ["information", "software", "new_materials"]})
    quota_overrides = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "authority code → new-base quota this round", "example": {"620000": 2}})
    national_new_target = fields.Raw(metadata={"example": 15})
    notice_shows_figures = fields.Raw(metadata={
        "description": "the public notice lists the applicants' figures too (default false: "
                       "names, authority, kind and field, as 002 §六(三) publishes)",
        "example": False})


class NewRoundIn(RoundIn):
    year = fields.Raw(required=True, metadata={"example": 2007})
    programme = fields.String(metadata={
        "description": "the programme the round runs (GET /api/v1/programmes); "
                       "default: notice 002's, mofcom-2006-6", "example": "mofcom-2006-6"})


class MeOut(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True, metadata={"example": "hubei_reviewer"})
    display_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    authority = fields.String(allow_none=True, metadata={"example": "420000"})
    token_scope = fields.String(allow_none=True, metadata={"example": "read_write"})


def round_out(r: catalog.Round) -> dict[str, Any]:
    return {"year": r.row.year, "name_zh": r.row.name_zh, "name_en": r.row.name_en,
            "status": r.status.value, "opened_on": r.row.opened_on,
            "programme": r.row.programme, "programme_hash": r.row.programme_hash,
            "closed_on": r.row.closed_on, "calendar": r.calendar(), "params": r.rules.to_json()}


@bp.route("/authorities")
@declares(get="catalog.view")
class Authorities(MethodView):
    @bp.response(200, AuthorityOut(many=True))
    def get(self) -> Any:
        """The 37 submitting authorities and their regions (002 §二, §六(二)(2)), and the
        prefecture-level cities under them (their parent named)."""
        return catalog.authorities(uow(), api_user_id())


def changed_out(o: rounds.Outcome) -> dict[str, Any]:
    return {**round_out(catalog.Round(o.row, o.rules, o.status)),
            "warnings": [{"code": w.code, "field": w.field, "message_zh": w.zh,
                          "message_en": w.en, "details": w.details} for w in o.warnings]}


@bp.route("/rounds")
@declares(get="catalog.view", post="rounds.manage")
class Rounds(MethodView):
    @bp.response(200, RoundOut(many=True))
    def get(self) -> Any:
        """Every application round, newest first, with its status, calendar and criteria."""
        return [round_out(r) for r in catalog.rounds(uow(), api_user_id())]

    @bp.arguments(NewRoundIn, example={"year": 2007, "submission_deadline": "2007-04-30",
                                       "approval_deadline": "2007-05-31"})
    @bp.response(201, RoundChanged)
    def post(self, data: dict[str, Any]) -> Any:
        """Plan a round (ministry): it opens with `POST /rounds/{year}/open`; until then its
        dates, quotas and fields may change."""
        return changed_out(rounds.plan(uow(), api_user_id(), data))


@bp.route("/rounds/<int(max=9999):year>")
@declares(get="catalog.view", patch="rounds.manage")
class OneRound(MethodView):
    @bp.response(200, RoundOut)
    def get(self, year: int) -> Any:
        """One round by year."""
        return round_out(catalog.round_of(uow(), api_user_id(), year))

    @bp.arguments(RoundIn, example={"submission_deadline": "2007-04-27"})
    @bp.response(200, RoundChanged)
    def patch(self, data: dict[str, Any], year: int) -> Any:
        """Change a planned round (409 `round_frozen` once it has opened)."""
        return changed_out(rounds.change(uow(), api_user_id(), year, data))


@bp.route("/rounds/<int(max=9999):year>/open")
@declares(post="rounds.manage")
class OpenRound(MethodView):
    @bp.response(200, RoundChanged)
    def post(self, year: int) -> Any:
        """Open a planned round today: applications may be drafted in it; its rules are
        frozen (a case never changes rules mid-round)."""
        return changed_out(rounds.open_round(uow(), api_user_id(), year))


@bp.route("/rounds/<int(max=9999):year>/close")
@declares(post="rounds.manage")
class CloseRound(MethodView):
    @bp.response(200, RoundChanged)
    def post(self, year: int) -> Any:
        """Close an open round today: no new drafts, its unfinished cases wait on no one and
        get no reminders; its bases keep their reporting duties."""
        return changed_out(rounds.close_round(uow(), api_user_id(), year))


@bp.route("/me")
@declares(get="account.own")
class Me(MethodView):
    @bp.response(200, MeOut)
    def get(self) -> Any:
        """Who the token speaks for: role and authority decide what it may see and do."""
        user = catalog.me(uow(), api_user_id())
        return {"id": user.id, "username": user.username, "display_name": user.display_name,
                "role": user.role, "authority": user.authority.code if user.authority else None,
                "token_scope": g.get("api_token_scope")}
