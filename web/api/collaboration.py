"""Working a case together: claim, assign, release; comments with @-mentions (issue 17)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import settings, uow
from workflow.services import claims, comments

bp = Blueprint("collaboration_api", __name__, url_prefix="/api/v1/applications",
               description="Claims (认领/指派) and comments (评论) on a case")
ID = validate.Range(1, 2**31 - 1)


class ClaimIn(Schema):
    take_over = fields.Boolean(load_default=False, metadata={
        "description": "claim a case someone else holds (otherwise 422 claimed_by_other, "
                       "naming the holder)"})


class AssignIn(Schema):
    assignee_id = fields.Integer(required=True, validate=ID, metadata={
        "description": "a reviewer of your own authority and role", "example": 7})


class HolderOut(Schema):
    id = fields.Integer(required=True, metadata={"description": "the application"})
    assignee_id = fields.Integer(allow_none=True)
    assignee_name = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    since = fields.DateTime(allow_none=True)


def _holder(app_id: int, got: claims.Holder | None) -> dict[str, Any]:
    return {"id": app_id, "assignee_id": got.user_id if got else None,
            "assignee_name": got.name if got else None, "role": got.role if got else None,
            "since": got.since if got else None}


@bp.route("/<int(max=2147483647):app_id>/assignment")
@declares(get="case.view")
class Assignment(MethodView):
    @bp.response(200, HolderOut)
    def get(self, app_id: int) -> Any:
        """Who works the case now (null: nobody has claimed it)."""
        return _holder(app_id, claims.holder(uow(), api_user_id(), app_id))


@bp.route("/<int(max=2147483647):app_id>/claim")
@declares(post="case.claim")
class Claim(MethodView):
    @bp.arguments(ClaimIn, example={"take_over": False})
    @bp.response(200, HolderOut)
    def post(self, data: dict[str, Any], app_id: int) -> Any:
        """Claim a case in your worklist (its state waits on your role)."""
        got = claims.assign(uow(), api_user_id(), app_id, take_over=data["take_over"])
        return _holder(app_id, got)


@bp.route("/<int(max=2147483647):app_id>/assign")
@declares(post="case.claim")
class Assign(MethodView):
    @bp.arguments(AssignIn, example={"assignee_id": 7})
    @bp.response(200, HolderOut)
    def post(self, data: dict[str, Any], app_id: int) -> Any:
        """Assign the case to a colleague of your authority and role."""
        return _holder(app_id, claims.assign(uow(), api_user_id(), app_id,
                                             data["assignee_id"]))


@bp.route("/<int(max=2147483647):app_id>/unassign")
@declares(post="case.claim")
class Unassign(MethodView):
    @bp.response(200, HolderOut)
    def post(self, app_id: int) -> Any:
        """Release the case: nobody holds it."""
        claims.unassign(uow(), api_user_id(), app_id)
        return _holder(app_id, None)


class CommentIn(Schema):
    body = fields.String(required=True, metadata={
        "description": f"1 to {comments.MAX_CHARS} characters; @username mentions notify",
        "example": "@mofcom2 请复核出口增速口径"})
    visibility = fields.String(load_default="internal", validate=validate.OneOf(
        comments.VISIBILITIES), metadata={
        "description": "internal: between reviewers, never shown to the applicant; "
                       "applicant: a remark to the applicant (applicants write only these)"})
    field = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=60),
                          metadata={"description": "a field of the case's form (its "
                                                   "programme's Form.<code>)"})


class CommentOut(Schema):
    id = fields.Integer(required=True)
    author_id = fields.Integer(required=True)
    author_name = fields.String(required=True)
    author_role = fields.String(required=True)
    visibility = fields.String(required=True)
    field = fields.String(allow_none=True)
    body = fields.String(required=True)
    mentions = fields.List(fields.Integer(), required=True)
    created_at = fields.DateTime(required=True)


@bp.route("/<int(max=2147483647):app_id>/comments")
@declares(get="case.comment", post="case.comment")
class Comments(MethodView):
    @bp.response(200, CommentOut(many=True))
    def get(self, app_id: int) -> Any:
        """The case's comments you may read (an applicant: the remarks to them)."""
        return comments.of_case(uow(), api_user_id(), app_id)

    @bp.arguments(CommentIn, example={"body": "@mofcom2 请复核出口增速口径",
                                      "visibility": "internal"})
    @bp.response(201, CommentOut)
    def post(self, data: dict[str, Any], app_id: int) -> Any:
        """Comment on a case; the people it @-mentions are notified."""
        return comments.post(uow(), api_user_id(), app_id, data["body"], data["visibility"],
                             data.get("field"), base_url=settings().base_url)
