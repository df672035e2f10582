"""The three admin roles' API: accounts (system admin), the outbox (system admin), the
audit log (auditor only). None of them touches a case."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from workflow.roles import Role
from workflow.services import audit, mail, user_admin

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1",
               description="Accounts (系统管理员), outbox (系统管理员), audit log (审计管理员)")
ID = validate.Range(1, 2**31 - 1)


class UserOut(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    authority = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    is_active = fields.Boolean(required=True)
    locked = fields.Boolean(required=True)
    must_change_password = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class UserIn(Schema):
    username = fields.String(required=True, metadata={"example": "wuhan_applicant"})
    display_name = fields.String(required=True, metadata={"example": "武汉市商务局"})
    email = fields.String(required=True, metadata={"example": "wuhan@example.gov.cn"})
    role = fields.String(required=True, metadata={"example": "applicant"})
    authority = fields.String(allow_none=True, metadata={"example": "420000"})
    organisation = fields.String(allow_none=True)
    password = fields.String(required=True, metadata={
        "description": "temporary; must be changed at first login"})


class UserCreated(Schema):
    id = fields.Integer(required=True)


class ActiveIn(Schema):
    active = fields.Boolean(required=True)


class OutboxArgs(Schema):
    status = fields.String(validate=validate.OneOf(mail.STATUSES))
    kind = fields.String(validate=validate.Length(max=40))
    q = fields.String(validate=validate.Length(max=100))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    before_id = fields.Integer(validate=ID)


class OutboxItem(Schema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(allow_none=True)
    recipient_email = fields.String(required=True)
    kind = fields.String(required=True)
    due_on = fields.Date(allow_none=True)
    subject = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True)


class OutboxOut(Schema):
    items = fields.List(fields.Nested(OutboxItem), required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    next_before = fields.Integer(allow_none=True)


class AuditArgs(Schema):
    event = fields.String(validate=validate.Length(max=100))
    actor = fields.String(validate=validate.Length(max=100))
    object_type = fields.String(validate=validate.Length(max=100))
    object_id = fields.String(validate=validate.Length(max=100))
    result = fields.String(validate=validate.Length(max=100))
    ip = fields.String(validate=validate.Length(max=100))
    since = fields.String(validate=validate.Length(max=40), metadata={"example": "2006-04-01"})
    until = fields.String(validate=validate.Length(max=40))
    before_id = fields.Integer(validate=ID)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class AuditOut(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    on_behalf_of_id = fields.Integer(allow_none=True)
    ip = fields.String(allow_none=True)
    event = fields.String(required=True)
    object_type = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    result = fields.String(required=True)
    details = fields.Dict(required=True)
    hash = fields.String(required=True)


@bp.route("/users")
@declares(get="accounts.list", post="accounts.admin")
class Users(MethodView):
    @bp.response(200, UserOut(many=True))
    def get(self) -> Any:
        """Every account, with who is locked out now (system and security admin)."""
        users, locked = user_admin.list_users(uow(), api_user_id())
        return [{"id": u.id, "username": u.username, "display_name": u.display_name,
                 "email": u.email, "role": u.role,
                 "authority": u.authority.code if u.authority else None,
                 "organisation": u.organisation, "is_active": u.is_active,
                 "locked": u.username in locked,
                 "must_change_password": bool(u.must_change_password),
                 "created_at": u.created_at} for u in users]

    @bp.arguments(UserIn)
    @bp.response(201, UserCreated)
    def post(self, data: dict[str, Any]) -> Any:
        """Open an account for a case role (system admin); the password is temporary."""
        return {"id": user_admin.create_user(uow(), api_user_id(), data)}


@bp.route("/users/<int(max=2147483647):user_id>/active")
@declares(put="accounts.admin")
class Active(MethodView):
    @bp.arguments(ActiveIn)
    @bp.response(204)
    def put(self, data: dict[str, Any], user_id: int) -> Any:
        """Disable (ends sessions, revokes API tokens) or re-enable an account."""
        user_admin.set_active(uow(), api_user_id(), user_id, data["active"])
        return None


@bp.route("/outbox")
@declares(get="mail.admin")
class Outbox(MethodView):
    @bp.arguments(OutboxArgs, location="query")
    @bp.response(200, OutboxOut)
    def get(self, args: dict[str, Any]) -> Any:
        """Messages waiting, sent or failed, newest first (system admin)."""
        page = mail.outbox_page(uow(), api_user_id(), status=args.get("status"),
                                kind=args.get("kind"), q=args.get("q"), limit=args["limit"],
                                before_id=args.get("before_id"))
        return {"items": page.rows, "counts": page.counts, "next_before": page.next_before}


@bp.route("/outbox/<int(max=2147483647):outbox_id>/retry")
@declares(post="mail.admin")
class Retry(MethodView):
    @bp.response(204)
    def post(self, outbox_id: int) -> Any:
        """Queue a failed, dead or cancelled message again (system admin)."""
        mail.retry(uow(), api_user_id(), outbox_id)
        return None


@bp.route("/audit-log")
@declares(get="audit.read")
class AuditLog(MethodView):
    @bp.arguments(AuditArgs, location="query")
    @bp.response(200, AuditOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The append-only audit log, newest first (auditor only; read-only)."""
        before, limit = args.pop("before_id", None), args.pop("limit")
        return audit.search(uow(), api_user_id(), args, before_id=before, limit=limit)
