"""Re-evaluation (动态调整): dry runs, runs, proposals, and the ministry's confirmation."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from workflow.assessment import PROPOSALS
from workflow.services import assessment, reports

bp = Blueprint("evaluations_api", __name__, url_prefix="/api/v1",
               description="Re-evaluation of designated bases (定期评估, 动态调整)")


class RunIn(Schema):
    period = fields.Integer(required=True, validate=validate.Range(1900, 2200),
                            metadata={"description": "the year assessed", "example": 2006})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "compute every proposal, store nothing"})


class CountsOut(Schema):
    period = fields.Integer(required=True)
    dry_run = fields.Boolean(required=True)
    run_id = fields.Integer(allow_none=True)
    bases = fields.Integer(required=True)
    written = fields.Integer(required=True)
    keep = fields.Integer(required=True)
    rectify = fields.Integer(required=True)
    revoke = fields.Integer(required=True)


class PreviewItem(Schema):
    application_id = fields.Integer(required=True)
    applicant_name = fields.String(allow_none=True)
    region = fields.String(required=True)
    proposal = fields.String(required=True, validate=validate.OneOf(PROPOSALS))
    explanation_zh = fields.String(required=True)
    explanation_en = fields.String(required=True)
    findings = fields.List(fields.Dict(), required=True)


class RunOut(Schema):
    counts = fields.Nested(CountsOut, required=True)
    provisional = fields.Dict(allow_none=True, metadata={
        "description": "dry runs of a year that has not closed: why the findings are "
                       "provisional (code period_not_closed, messages, closes_on)"})
    items = fields.List(fields.Nested(PreviewItem), required=True,
                        metadata={"description": "dry runs only (empty otherwise)"})


class RunRow(Schema):
    id = fields.Integer(required=True)
    period = fields.Integer(required=True)
    dry_run = fields.Boolean(required=True)
    status = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    summary = fields.Dict(required=True)


class ProposalArgs(Schema):
    period = fields.Integer(required=True, validate=validate.Range(1900, 2200))
    proposal = fields.String(validate=validate.OneOf(PROPOSALS))
    status = fields.String(validate=validate.OneOf(["proposed", "confirmed"]))


class EvaluationOut(Schema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    applicant_name = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    period = fields.Integer(required=True)
    proposal = fields.String(required=True, validate=validate.OneOf(PROPOSALS))
    status = fields.String(required=True)
    explanation_zh = fields.String(required=True)
    explanation_en = fields.String(required=True)
    findings = fields.List(fields.Dict(), required=True)
    indicators = fields.Dict(required=True)
    confirmed_at = fields.DateTime(allow_none=True)


class ConfirmIn(Schema):
    evaluation_ids = fields.List(fields.Integer(validate=validate.Range(1, 2**31 - 1)),
                                 required=True, validate=validate.Length(1, 500),
                                 metadata={"example": [1, 2]})


class ConfirmResult(Schema):
    evaluation_id = fields.Integer(required=True)
    application_id = fields.Integer()
    ok = fields.Boolean(required=True)
    trigger = fields.String()
    state = fields.String()
    code = fields.String()
    errors = fields.List(fields.Dict())


def evaluation_out(ev: Any, name: str | None = None, region: str | None = None,
                   state: str | None = None) -> dict[str, Any]:
    return {"id": ev.id, "application_id": ev.application_id, "applicant_name": name,
            "region": region, "state": state, "period": ev.period, "proposal": ev.proposal,
            "status": ev.status, "explanation_zh": ev.explanation_zh,
            "explanation_en": ev.explanation_en, "findings": ev.findings or [],
            "indicators": ev.indicators or {}, "confirmed_at": ev.confirmed_at}


@bp.route("/evaluation-runs")
@declares(get="assessment.run", post="assessment.run")
class Runs(MethodView):
    @bp.response(200, RunRow(many=True))
    def get(self) -> Any:
        """Re-evaluation runs, newest first (ministry)."""
        return assessment.runs(uow(), api_user_id())

    @bp.arguments(RunIn, example={"period": 2006, "dry_run": True})
    @bp.response(201, RunOut, description="a dry run: every proposal, nothing stored")
    @bp.alt_response(202, schema=RunRow, description=(
        "a run: recorded (status `queued`) and queued for the worker, as on the page; "
        "`Location` is the run, whose `status` becomes `running` and then `finished` "
        "(its proposals are then under `GET /evaluations?period=`)"),
        headers={"Location": {"description": "the run: GET /api/v1/evaluation-runs/{id}",
                              "schema": {"type": "string"}}})
    def post(self, data: dict[str, Any]) -> Any:
        """Ask for a re-evaluation of a year, done by the worker (202), or a dry run that
        stores nothing and answers at once (201) (ministry)."""
        from tasks.assessment import queue

        uid = api_user_id()
        if data["dry_run"]:
            pre = assessment.preview(uow(), uid, data["period"])
            return {"counts": pre.counts.as_dict(),
                    "provisional": pre.provisional.as_dict() if pre.provisional else None,
                    "items": [
                {"application_id": a.application_id, "applicant_name": name, "region": region,
                 "proposal": a.proposal, "explanation_zh": a.explanation("zh"),
                 "explanation_en": a.explanation("en"), "findings": a.findings_json()}
                for a, name, region in pre.items]}
        run_id = assessment.request_run(uow(), uid, data["period"], queue)
        run = RunRow().dump(assessment.run_of(uow(), uid, run_id))
        return jsonify(run), 202, {"Location": url_for("evaluations_api.Run", run_id=run_id)}


@bp.route("/evaluation-runs/<int(max=2147483647):run_id>")
@declares(get="assessment.run")
class Run(MethodView):
    @bp.response(200, RunRow)
    def get(self, run_id: int) -> Any:
        """One re-evaluation run and its status: queued, running, finished (with its
        counts in `summary`) or superseded by a later run of the year (ministry)."""
        return assessment.run_of(uow(), api_user_id(), run_id)


@bp.route("/evaluations")
@declares(get="assessment.run")
class Evaluations(MethodView):
    @bp.arguments(ProposalArgs, location="query")
    @bp.response(200, EvaluationOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Stored proposals of a period, by region then name (ministry)."""
        return [evaluation_out(ev, name, region, state) for ev, name, region, state in
                assessment.proposals(uow(), api_user_id(), args["period"],
                                     proposal=args.get("proposal"), status=args.get("status"))]


@bp.route("/evaluations/confirm")
@declares(post="assessment.run")
class Confirm(MethodView):
    @bp.arguments(ConfirmIn)
    @bp.response(200, ConfirmResult(many=True))
    def post(self, data: dict[str, Any]) -> Any:
        """Confirm proposals: keep, order rectification (with a deadline) or revoke — each
        its own transition with guards and history; the result says which succeeded."""
        return assessment.confirm(uow(), api_user_id(), data["evaluation_ids"])


@bp.route("/applications/<int(max=2147483647):app_id>/evaluations")
@declares(get="reports.view")
class OfBase(MethodView):
    @bp.response(200, EvaluationOut(many=True))
    def get(self, app_id: int) -> Any:
        """A base's evaluations, newest period first."""
        return [evaluation_out(ev) for ev in
                reports.evaluations_of(uow(), api_user_id(), app_id)]
