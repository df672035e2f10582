"""Applications: drafts, reading, listing, transitions, eligibility, history."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.schemas import decimal
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from workflow import form
from workflow.paging import API_MAX_PAGE, PAGE_SIZE
from workflow.programme import all_kinds, known, programme, state_def
from workflow.services import cases
from workflow.states import BY_TRIGGER
from workflow.storage.models import ApplicationRow

bp = Blueprint("applications_api", __name__, url_prefix="/api/v1/applications",
               description="Applications (申报) and their workflow")

NUMBER_OR_STRING = {"type": ["number", "string"]}  # apispec adds "null" (allow_none)


class Product(Schema):
    name = fields.String(allow_none=True, metadata={"example": "光纤通信设备"})
    exports_10k_usd = fields.Raw(allow_none=True, metadata={
        **NUMBER_OR_STRING, "description": "万美元", "example": "1200.5"})


# the form's own limits (workflow/form.py), so the contract says what the domain accepts
BOUNDS = {"int": (0, form.MAX_INT), "money": (0, int(form.MAX_DECIMAL)),
          "pct": (int(form.PCT_MIN), int(form.PCT_MAX))}


def _every_field() -> list[form.Field]:
    """The fields of every programme's form, by name (notice 002's first): a case carries
    its own programme's (each programme's form is `Form.<code>` in the document)."""
    seen: dict[str, form.Field] = {}
    for p in sorted(known(), key=lambda p: p.code != programme().code):
        for f in p.form.fields:
            seen.setdefault(f.name, f)
    return list(seen.values())


def _form_fields(output: bool) -> dict[str, fields.Field]:
    out: dict[str, fields.Field] = {f.name: _field_of(f, output) for f in _every_field()}
    for t in _every_table():  # the tables kept in the document (a cluster's leading enterprises)
        row = _row_schema(t, output)
        desc = f"{t.zh} / {t.en}" + (
            f" (only when {t.only_when[0]} = {t.only_when[1]})" if t.only_when else "")
        out[t.name] = fields.List(fields.Nested(row), allow_none=not output,
                                  metadata={"description": desc})
    return out


_ROW_SCHEMAS: dict[tuple[str, bool], type[Schema]] = {}


def _row_schema(t: form.Rows, output: bool) -> type[Schema]:
    """One schema per table and direction (input and update share it: one name in the
    OpenAPI document)."""
    key = (t.name, output)
    if key not in _ROW_SCHEMAS:
        _ROW_SCHEMAS[key] = Schema.from_dict(
            {c.name: _field_of(c, output) for c in t.fields},
            name=f"{''.join(w.title() for w in t.name.split('_'))}{'Out' if output else 'In'}")
    return _ROW_SCHEMAS[key]


def _every_table() -> list[form.Rows]:
    """The document tables of every programme's form, by name (notice 002's first)."""
    seen: dict[str, form.Rows] = {}
    for p in sorted(known(), key=lambda p: p.code != programme().code):
        for t in p.form.tables:
            seen.setdefault(t.name, t)
    return list(seen.values())


def _field_of(f: form.Field, output: bool) -> fields.Field:
    """One field of a form as the API reads (`output` False) or writes it."""
    meta: dict[str, Any] = {
        "description": f"{f.zh} / {f.en}" + (f" ({f.unit_zh})" if f.unit_zh else "")}
    if f.filled_by != form.APPLICANT:
        meta["description"] += f"; stated by the {f.filled_by.replace('_', ' ')}, not the " \
                               "applicant (POST …/review-fields)"
    if f.kind == "bool":
        return (fields.Boolean(allow_none=True, metadata=meta) if output
                else fields.Raw(allow_none=True, metadata={**meta, "type": ["boolean", "string"]}))
    if f.kind == "choice":
        return fields.String(allow_none=True, metadata={**meta,
                                                        "enum": [o[0] for o in f.options]})
    if not output and f.kind in BOUNDS:
        meta["minimum"], meta["maximum"] = BOUNDS[f.kind]
    if f.kind == "city":
        meta["description"] += ("; a prefecture-level city of the case's province: its code "
                                "(GET /api/v1/authorities), or its name")
    if f.kind in form.TEXT_TYPES:
        return fields.String(allow_none=True, metadata=(
            meta if output else {**meta, "maxLength": f.max_len}))
    if f.kind == "date":
        return (fields.Date(allow_none=True, metadata=meta) if output
                else fields.Raw(allow_none=True, metadata={**meta, "type": "string",
                                                           "format": "date"}))
    if f.kind == "int":
        return (fields.Integer(allow_none=True, metadata=meta) if output
                else fields.Raw(allow_none=True, metadata={**meta, **NUMBER_OR_STRING}))
    return (decimal(allow_none=True, metadata=meta)
            if output else fields.Raw(allow_none=True, metadata={**meta, **NUMBER_OR_STRING}))


EXISTING_BASE = {"description": "re-certification (002 §五(一)): the national base it "
                                 "re-certifies, from the register (GET /api/v1/bases) — one "
                                 "of your authority's, not revoked; required to submit",
                 "example": 16}

ApplicationInput = Schema.from_dict({
    **_form_fields(False),
    "kind": fields.String(validate=validate.OneOf(all_kinds()), metadata={"example": "new_base"}),
    "industry_field": fields.String(allow_none=True),
    "existing_base_type": fields.String(allow_none=True),
    "existing_base_id": fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1),
                                       metadata=EXISTING_BASE),
    "round_year": fields.Integer(allow_none=True, validate=validate.Range(1990, 2200),
                                 metadata={"description": "default: the newest open round"}),
    "programme": fields.String(allow_none=True, validate=validate.Length(max=60), metadata={
        "description": "the programme to apply in (GET /api/v1/programmes; its form is "
                       "Form.<code>); default: notice 002's", "example": "mofcom-2006-6"}),
    "products": fields.List(fields.Nested(Product), allow_none=True),
}, name="ApplicationInput")

ApplicationUpdate = Schema.from_dict({
    **_form_fields(False),
    "kind": fields.String(validate=validate.OneOf(all_kinds())),
    "industry_field": fields.String(allow_none=True),
    "existing_base_type": fields.String(allow_none=True),
    "existing_base_id": fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1),
                                       metadata=EXISTING_BASE),
    "products": fields.List(fields.Nested(Product), allow_none=True),
    "version": fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1),
                              metadata={"description": "the version you read (409 if it "
                                                       "moved on)", "example": 1}),
}, name="ApplicationUpdate")


DRAFT_EXAMPLE = {
    "kind": "new_base", "industry_field": "information", "round_year": 2006,
    "applicant_name": "武汉光谷光电子信息产业集群", "contact_person": "张明",
    "contact_phone": "027-87654321", "contact_email": "zhang@example.gov.cn",
    "filled_on": "2006-03-10", "address": "武汉市东湖新技术开发区",
    "characteristic_industry": "光电子信息", "enterprise_count": 120,
    "total_sales_100m_cny": "150.5", "total_assets_10k_cny": "2100000",
    "exports_100m_usd": "12.3", "export_growth_pct": "25.4", "profit_tax_10k_cny": "80000",
    "hightech_exports_100m_usd": "8.6", "hightech_export_growth_pct": "48",
    "hightech_export_growth_pct_prev1": "60", "hightech_export_growth_pct_prev2": "55",
    "employees": 35000, "products": [{"name": "光通信设备", "exports_10k_usd": "3000"}],
}


class ProductOut(Schema):
    name = fields.String()
    exports_10k_usd = decimal(allow_none=True)


ApplicationOut = Schema.from_dict({
    "id": fields.Integer(required=True),
    "state": fields.String(required=True, metadata={
        "description": "a state of the case's programme", "example": "drafted"}),
    "version": fields.Integer(required=True),
    "kind": fields.String(required=True),
    "round_year": fields.Integer(required=True),
    "programme": fields.String(required=True, metadata={"example": "mofcom-2006-6"}),
    "authority": fields.String(required=True, metadata={
        "description": "GB/T 2260 code of the authority that drafted it: a province-level one "
                       "or a prefecture-level city"}),
    "province": fields.String(required=True, metadata={
        "description": "the province-level authority that reviews and recommends it (a "
                       "city's province; else the authority itself)"}),
    "region": fields.String(required=True, metadata={
        "description": "the region the criteria use (a city's own class, else its "
                       "province's)"}),
    "industry_field": fields.String(allow_none=True),
    "existing_base_type": fields.String(allow_none=True),
    "existing_base_id": fields.Integer(allow_none=True, metadata={
        "description": "re-certification: the national base it names in the register"}),
    "due_on": fields.Date(allow_none=True),
    "notice_ends_on": fields.Date(allow_none=True),
    "rectification_deadline": fields.Date(allow_none=True),
    "attestations": fields.Dict(),
    **_form_fields(True),
    "products": fields.List(fields.Nested(ProductOut)),
    "available_triggers": fields.List(fields.String(), metadata={
        "description": "triggers the caller may fire now"}),
}, name="Application")


class ListArgs(Schema):
    state = fields.String(validate=lambda v: state_def(v) is not None, metadata={
        "description": "a state of a programme (GET /api/v1/programmes/{code})",
        "example": "publicly_shown"})
    region = fields.String(validate=validate.OneOf(["east", "central", "west", "northeast"]))
    authority = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"), metadata={
        "description": "GB/T 2260 code; a province's takes in its cities", "example": "420000"})
    round = fields.Integer(validate=validate.Range(1990, 2200), metadata={"example": 2006})
    kind = fields.String(validate=validate.OneOf(all_kinds()))
    programme = fields.String(validate=validate.OneOf([p.code for p in known()]), metadata={
        "description": "the programme of the case's round (GET /api/v1/programmes)",
        "example": "mofcom-2006-6"})
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "part of the applicant's name"})
    waiting_on_me = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=PAGE_SIZE, validate=validate.Range(1, API_MAX_PAGE))
    cursor = fields.String(validate=validate.Regexp(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{1,10}$"),
                           metadata={"description": "next_cursor of the previous page",
                                     "example": "2006-04-30_17"})


class Summary(Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)
    kind = fields.String(required=True)
    applicant_name = fields.String(allow_none=True)
    authority = fields.String(required=True)
    province = fields.String(required=True)
    region = fields.String(required=True)
    round_year = fields.Integer(required=True)
    programme = fields.String(required=True, metadata={
        "description": "the programme its round runs (GET /api/v1/programmes)",
        "example": "mofcom-2006-6"})
    due_on = fields.Date(allow_none=True)
    overridden_criteria = fields.List(fields.String(), metadata={
        "description": "criteria of 002 §六 a reviewer overrode (the reasons: history)"})
    late_steps = fields.List(fields.String(), metadata={
        "description": "steps taken after the round's deadline (002 §六(三)): recommend, "
                       "approve"})


class ListOut(Schema):
    items = fields.List(fields.Nested(Summary), required=True)
    total = fields.Integer(required=True)
    next_cursor = fields.String(allow_none=True)


class TransitionIn(Schema):
    trigger = fields.String(required=True, metadata={
        "example": "submit", "enum": sorted({t.trigger for p in known() for t in p.transitions})})
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000),
                           metadata={"description": "required to return, decline, reject, "
                                                    "withdraw, revoke, order rectification"})
    version = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1),
                             metadata={"example": 1})
    deadline = fields.Date(allow_none=True, metadata={"description": "限期整改 deadline"})
    override_reason = fields.String(allow_none=True, validate=validate.Length(max=2000), metadata={
        "description": "recommend, publish_notice, approve a case that fails a criterion "
                       "(002 §六): why the reviewer goes on anyway (else 422 criterion_failed "
                       "naming the criteria and figures); refused whatever the reason when "
                       "the round makes the criterion blocking (criterion_blocking)"})
    late_reason = fields.String(allow_none=True, validate=validate.Length(max=2000), metadata={
        "description": "recommend after the round's submission deadline, approve after its "
                       "approval deadline (002 §六(三)): why (else 422 late_reason_required)"})
    document = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "the decision's document number (文号) — approve, keep_designation, "
                       "order_rectification, revoke only — recorded in the register of bases",
        "example": "商技函[2006]45号"})


class TransitionOut(Schema):
    id = fields.Integer(required=True)
    trigger = fields.String(required=True)
    from_state = fields.String(required=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)


class VerdictOut(Schema):
    criterion = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(["pass", "fail", "pending"]))
    zh = fields.String(required=True)
    en = fields.String(required=True)
    source = fields.String(required=True)
    figures = fields.Dict()


class HistoryOut(Schema):
    version = fields.Integer(required=True)
    trigger = fields.String(required=True)
    from_state = fields.String(required=True)
    to_state = fields.String(required=True)
    actor_name = fields.String(required=True)
    actor_role = fields.String(required=True)
    on_behalf_of_name = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    at = fields.DateTime(required=True)
    eligibility = fields.List(fields.Dict())
    override = fields.Function(lambda h: (h.data or {}).get("override"), metadata={
        "description": "a failed criterion overridden: criteria, figures, reason (002 §六)"})
    late = fields.Function(lambda h: (h.data or {}).get("late"), metadata={
        "description": "a step after the round's deadline: deadline, badge, reason "
                       "(002 §六(三))"})


def summary(row: ApplicationRow) -> dict[str, Any]:
    return {"id": row.id, "state": row.state, "version": row.version, "kind": row.kind,
            "applicant_name": row.applicant_name, "authority": row.authority.code,
            "province": row.authority.province.code, "region": row.authority.region,
            "round_year": row.round.year, "programme": row.round.programme,
            "due_on": row.due_on, "overridden_criteria": list(row.overridden_criteria or []),
            "late_steps": list(row.late_steps or [])}


def detail(loaded: cases.Loaded) -> dict[str, Any]:
    row = loaded.row
    out = summary(row)
    out.update(loaded.case.values)
    out.update(industry_field=row.industry_field, existing_base_type=row.existing_base_type,
               existing_base_id=row.existing_base_id,
               notice_ends_on=row.notice_ends_on, rectification_deadline=row.rectification_deadline,
               attestations=row.attestations or {},
               products=[{"name": p.name, "exports_10k_usd": p.exports_10k_usd}
                         for p in row.products],
               available_triggers=loaded.triggers)
    return out


@bp.route("")
@declares(get="case.view", post="case.create")
class Applications(MethodView):
    @bp.arguments(ListArgs, location="query")
    @bp.response(200, ListOut)
    def get(self, args: dict[str, Any]) -> Any:
        """Applications you may see, by due date; filters as in the inbox; cursor pages."""
        page = cases.list_applications(
            uow(), api_user_id(), state=args.get("state"), region=args.get("region"),
            authority=args.get("authority"), round_year=args.get("round"),
            kind=args.get("kind"), q=args.get("q"), limit=args["limit"],
            cursor=args.get("cursor"), waiting_on_me=args["waiting_on_me"],
            programme=args.get("programme"))
        return {"items": [summary(r) for r in page.items], "total": page.total,
                "next_cursor": page.next_cursor}

    @bp.arguments(ApplicationInput, example=DRAFT_EXAMPLE)
    @bp.response(201, ApplicationOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Start a draft 申报书 (applicants)."""
        uid = api_user_id()
        app_id = cases.create_draft(uow(), uid, data)
        return detail(cases.load(uow(), uid, app_id))


@bp.route("/<int(max=2147483647):app_id>")
@declares(get="case.view", patch="case.edit_draft")
class Application(MethodView):
    @bp.response(200, ApplicationOut)
    def get(self, app_id: int) -> Any:
        """One application, with the triggers you may fire now."""
        return detail(cases.load(uow(), api_user_id(), app_id))

    @bp.arguments(ApplicationUpdate, example={"contact_phone": "027-87654322", "version": 1})
    @bp.response(200, ApplicationOut)
    def patch(self, data: dict[str, Any], app_id: int) -> Any:
        """Save changes to a draft; send the version you read (409 if it moved on)."""
        uid = api_user_id()
        version = data.pop("version")
        cases.update_draft(uow(), uid, app_id, data, version)
        return detail(cases.load(uow(), uid, app_id))


@bp.route("/<int(max=2147483647):app_id>/transitions")
@declares(post="case.fire")
class Transitions(MethodView):
    @bp.arguments(TransitionIn, example={"trigger": "submit", "version": 3})
    @bp.response(200, TransitionOut)
    def post(self, data: dict[str, Any], app_id: int) -> Any:
        """Fire a trigger (submit, recommend, publish_notice, approve, …)."""
        fired = cases.fire(uow(), api_user_id(), app_id, data["trigger"], data["version"],
                           reason=data.get("reason"), deadline=data.get("deadline"),
                           document=data.get("document"),
                           override_reason=data.get("override_reason"),
                           late_reason=data.get("late_reason"))
        return {"id": fired.application_id, "trigger": fired.trigger,
                "from_state": fired.from_state, "state": fired.to_state,
                "version": fired.version}


class BulkIn(Schema):
    ids = fields.List(fields.Integer(validate=validate.Range(1, 2**31 - 1)), required=True,
                      validate=validate.Length(1, 200), metadata={"example": [12, 15]})
    trigger = fields.String(required=True, metadata={"example": "publish_notice",
                                                     "enum": sorted(BY_TRIGGER)})
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))


class BulkResult(Schema):
    id = fields.Integer(required=True)
    ok = fields.Boolean(required=True)
    state = fields.String()
    code = fields.String()
    errors = fields.List(fields.Dict())


@bp.route("/transitions")
@declares(post="case.fire")
class BulkTransitions(MethodView):
    @bp.arguments(BulkIn, example={"ids": [12, 15], "trigger": "publish_notice"})
    @bp.response(200, BulkResult(many=True))
    def post(self, data: dict[str, Any]) -> Any:
        """Fire one trigger on many cases: each its own guards, history row and transaction;
        the result says which succeeded and why the others were refused."""
        return cases.bulk_fire(uow(), api_user_id(), data["ids"], data["trigger"],
                               reason=data.get("reason"))


@bp.route("/<int(max=2147483647):app_id>/eligibility")
@declares(get="case.view")
class Eligibility(MethodView):
    @bp.response(200, VerdictOut(many=True))
    def get(self, app_id: int) -> Any:
        """Per-criterion verdicts with figures, thresholds and the rule's source."""
        return [v.as_dict() for v in cases.eligibility_of(uow(), api_user_id(), app_id)]


@bp.route("/<int(max=2147483647):app_id>/history")
@declares(get="case.view")
class History(MethodView):
    @bp.response(200, HistoryOut(many=True))
    def get(self, app_id: int) -> Any:
        """Every transition: who, on whose behalf, when, from, to, why."""
        return cases.history_of(uow(), api_user_id(), app_id)


class AttestationsIn(Schema):
    values = fields.Dict(keys=fields.String(validate=validate.Length(1, 40)),
                         values=fields.Boolean(allow_none=True), required=True,
                         metadata={"example": {"local_policy": True,
                                               "leading_enterprises": True}})
    version = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))


class VersionOut(Schema):
    id = fields.Integer(required=True)
    version = fields.Integer(required=True)


@bp.route("/<int(max=2147483647):app_id>/attestations")
@declares(put="case.attest")
class Attestations(MethodView):
    @bp.arguments(AttestationsIn)
    @bp.response(200, VersionOut)
    def put(self, data: dict[str, Any], app_id: int) -> Any:
        """A reviewer confirms the criteria only a person can judge (002 §六(一), §六(二)(1)(4))."""
        version = cases.set_attestations(uow(), api_user_id(), app_id, data["values"],
                                         data["version"])
        return {"id": app_id, "version": version}


class ReviewFieldsIn(Schema):
    values = fields.Dict(keys=fields.String(validate=validate.Length(1, 40)),
                         values=fields.Raw(allow_none=True), required=True,
                         metadata={"example": {"locality_rank": 2, "locality_peers": 13,
                                               "rank_catalogue": "national",
                                               "rank_source": "湖北省商务厅据海关统计"}})
    version = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))


@bp.route("/<int(max=2147483647):app_id>/review-fields")
@declares(put="case.view")  # whose fields: the programme's `filled_by`
class ReviewFields(MethodView):
    @bp.arguments(ReviewFieldsIn)
    @bp.response(200, VersionOut)
    def put(self, data: dict[str, Any], app_id: int) -> Any:
        """A reviewer states the form's fields their role fills in, while the case waits on
        them (002 §六(二)(2): the province's rank of the applicant in its locality and the
        statistics catalogue used); the form's schema marks them `x-filled-by`."""
        version = cases.set_review_fields(uow(), api_user_id(), app_id, data["values"],
                                          data["version"])
        return {"id": app_id, "version": version}
