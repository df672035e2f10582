"""Programmes (专项): the definitions the engine runs — their states, transitions, form
(as JSON Schema), criteria and diagram — and their rounds, kept by each programme's owner."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from web.api.blueprint import Blueprint
from web.api.catalog import NewRoundIn, RoundChanged, changed_out
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from workflow import diagram
from workflow.errors import DefinitionError, NotFound, refuse
from workflow.programme import Programme, known, programme
from workflow.services import rounds

bp = Blueprint("programmes_api", __name__, url_prefix="/api/v1",
               description="Programmes (专项): notice 002's and a province's own, as data")

CODE = "<string(maxlength=60):code>"


class ProgrammeOut(Schema):
    code = fields.String(required=True, metadata={"example": "mofcom-2006-6"})
    name_zh = fields.String(required=True, metadata={"example": "科技兴贸出口创新基地"})
    name_en = fields.String(required=True)
    citation_zh = fields.String(required=True)
    citation_en = fields.String(required=True)
    owner = fields.String(required=True, metadata={
        "description": "the role that plans, opens and closes its rounds",
        "example": "ministry_reviewer"})
    authority = fields.String(allow_none=True, metadata={
        "description": "a province's own programme: that province (its reviewers own it, its "
                       "cities apply); null: the ministry's, open to every authority",
        "example": "440000"})
    form_schema = fields.String(required=True, metadata={
        "description": "the OpenAPI component holding its form as JSON Schema",
        "example": "#/components/schemas/Form.mofcom-2006-6"})


class ProgrammeDetail(ProgrammeOut):
    states = fields.List(fields.Dict(), required=True, metadata={
        "description": "every state: labels, whose turn it is, deadline, terminal, "
                       "designated, uses quota, register status, tone"})
    transitions = fields.List(fields.Dict(), required=True, metadata={
        "description": "every transition: trigger, from, to, roles, guards, effects, "
                       "reason required, lock"})
    form = fields.Dict(required=True, metadata={"description": "the form as JSON Schema"})
    criteria = fields.List(fields.Dict(), required=True, metadata={
        "description": "the criteria: key, kind (from the library), parameters, source"})
    attachments = fields.List(fields.Dict(), required=True, metadata={
        "description": "the kinds of attachment: kind, zh, en, role (who adds it), states "
                       "(in which), required_for (the triggers that need it)"})
    diagram_mermaid = fields.String(required=True, metadata={
        "description": "the life cycle as mermaid stateDiagram-v2"})
    sha256 = fields.String(required=True, metadata={
        "description": "of the definition as it is now (what a round opening today freezes)"})


def form_component(code: str) -> str:
    return f"Form.{code}"


def _find(code: str) -> Programme:
    try:
        return programme(code)
    except DefinitionError:
        raise NotFound(refuse("not_found", f"没有专项：{code}",
                              f"programme {code!r} not found")) from None


def _summary(p: Programme) -> dict[str, Any]:
    return {"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en,
            "citation_zh": p.citation_zh, "citation_en": p.citation_en,
            "owner": p.owner.value, "authority": p.authority,
            "form_schema": f"#/components/schemas/{form_component(p.code)}"}


def _detail(p: Programme) -> dict[str, Any]:
    from workflow.programme import current_source, digest

    states = [{"key": k, "zh": s.zh, "en": s.en, "waiting": sorted(r.value for r in s.waiting),
               "deadline": list(s.deadline), "terminal": s.terminal, "designated": s.designated,
               "uses_quota": s.uses_quota, "editable": s.editable,
               "public_notice": s.public_notice, "register": s.register, "tone": s.tone}
              for k, s in p.states.items()]
    transitions = [{"trigger": t.trigger, "from": list(t.sources), "to": t.dest,
                    "roles": sorted(r.value for r in t.roles), "guards": list(t.guards),
                    "effects": list(t.effects), "reason_required": t.reason_required,
                    "locks": t.locks, "zh": t.zh, "en": t.en} for t in p.transitions]
    criteria = [{"key": c.key, "kind": c.kind, "kinds": list(c.kinds), "zh": c.zh, "en": c.en,
                 "source": c.source, "field": c.field, "fields": list(c.fields),
                 "minimum": None if c.minimum is None else str(c.minimum),
                 "allowed": list(c.allowed)} for c in p.criteria]
    attachments = [{"kind": a.kind, "zh": a.zh, "en": a.en,
                    "role": a.role.value if a.role else None, "states": sorted(a.states),
                    "required_for": sorted(a.required_for)} for a in p.attachments]
    return {**_summary(p), "states": states, "transitions": transitions,
            "form": p.form.json_schema(p.name_zh), "criteria": criteria,
            "attachments": attachments,
            "diagram_mermaid": diagram.mermaid(None, "zh", p),
            "sha256": digest(current_source(p.code))}


@bp.route("/programmes")
@declares(get="catalog.view")
class Programmes(MethodView):
    @bp.response(200, ProgrammeOut(many=True))
    def get(self) -> Any:
        """Every programme the engine runs (a definition file under `programmes/`)."""
        api_user_id()
        return [_summary(p) for p in known()]


@bp.route(f"/programmes/{CODE}")
@declares(get="catalog.view")
class OneProgramme(MethodView):
    @bp.response(200, ProgrammeDetail)
    def get(self, code: str) -> Any:
        """One programme's definition: states, transitions, form (JSON Schema), criteria,
        diagram."""
        api_user_id()
        return _detail(_find(code))


@bp.route(f"/programmes/{CODE}/rounds")
@declares(post="rounds.manage")
class ProgrammeRounds(MethodView):
    @bp.arguments(NewRoundIn, example={"year": 2027, "submission_deadline": "2027-04-30",
                                       "approval_deadline": "2027-05-31"})
    @bp.response(201, RoundChanged)
    def post(self, data: dict[str, Any], code: str) -> Any:
        """Plan a round of this programme — by its owner (the ministry for notice 002's, the
        province for its own; 403 `round_owner_only` otherwise)."""
        _find(code)
        return changed_out(rounds.plan(uow(), api_user_id(), {**data, "programme": code}))


@bp.route(f"/programmes/{CODE}/rounds/<int(max=9999):year>/open")
@declares(post="rounds.manage")
class OpenProgrammeRound(MethodView):
    @bp.response(200, RoundChanged)
    def post(self, code: str, year: int) -> Any:
        """Open a planned round of this programme today (its owner): its definition is
        frozen with it."""
        _find(code)
        return changed_out(rounds.open_round(uow(), api_user_id(), year, code=code))


@bp.route(f"/programmes/{CODE}/rounds/<int(max=9999):year>/close")
@declares(post="rounds.manage")
class CloseProgrammeRound(MethodView):
    @bp.response(200, RoundChanged)
    def post(self, code: str, year: int) -> Any:
        """Close an open round of this programme today (its owner)."""
        _find(code)
        return changed_out(rounds.close_round(uow(), api_user_id(), year, code=code))


def register_form_schemas(spec: Any) -> None:
    """Each programme's form as a JSON Schema component of the OpenAPI document."""
    for p in known():
        schema = p.form.json_schema(p.name_zh)
        schema.pop("$schema", None)  # the document's dialect (OpenAPI 3.1) is JSON Schema's
        spec.components.schema(form_component(p.code), component=schema)
