"""Your own deputies (代理人) and notifications (通知)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import uow
from workflow.services import deputies, events, reminders

bp = Blueprint("people_api", __name__, url_prefix="/api/v1",
               description="Your deputies (代理人, reviewers) and notifications (通知)")
ID = validate.Range(1, 2**31 - 1)


class DeputyIn(Schema):
    deputy_id = fields.Integer(required=True, validate=ID)
    starts_on = fields.Date(required=True, metadata={"example": "2006-04-24"})
    ends_on = fields.Date(required=True, metadata={"example": "2006-04-28"})


class PeriodOut(Schema):
    id = fields.Integer(required=True)
    principal_id = fields.Integer(required=True)
    principal_name = fields.String(required=True)
    deputy_id = fields.Integer(required=True)
    deputy_name = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    active = fields.Boolean(required=True)


class Colleague(Schema):
    id = fields.Integer(required=True)
    display_name = fields.String(required=True)


class PeriodCreated(Schema):
    id = fields.Integer(required=True)


class NotificationOut(Schema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(allow_none=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    link = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class InboxOut(Schema):
    items = fields.List(fields.Nested(NotificationOut), required=True)
    unread = fields.Integer(required=True)
    mail_digest = fields.Boolean(required=True)
    notify_by_mail = fields.Boolean(required=True, metadata={
        "description": "case updates and mentions: in the app and by mail (true) or in "
                       "the app only (false)"})


class InboxArgs(Schema):
    unread_only = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class MarkIn(Schema):
    ids = fields.List(fields.Integer(validate=ID), allow_none=True,
                      validate=validate.Length(max=500),
                      metadata={"description": "null: all of them"})


class MarkOut(Schema):
    marked = fields.Integer(required=True)


class DigestIn(Schema):
    mail_digest = fields.Boolean(required=True, metadata={
        "description": "true: one daily digest; false: a mail per reminder"})
    notify_by_mail = fields.Boolean(load_default=None, allow_none=True, metadata={
        "description": "case updates and mentions: in the app and by mail (true) or in "
                       "the app only (false); omitted: unchanged"})


@bp.route("/deputies")
@declares(get="deputies.manage", post="deputies.manage")
class Deputies(MethodView):
    @bp.response(200, PeriodOut(many=True))
    def get(self) -> Any:
        """Current and future periods where you cover or are covered (reviewers)."""
        return [asdict(p) for p in deputies.periods_of(uow(), api_user_id())]

    @bp.arguments(DeputyIn)
    @bp.response(201, PeriodCreated)
    def post(self, data: dict[str, Any]) -> Any:
        """Name a colleague (same role and authority) to act for you between two dates."""
        return {"id": deputies.name_deputy(uow(), api_user_id(), data["deputy_id"],
                                           data["starts_on"], data["ends_on"])}


@bp.route("/deputies/candidates")
@declares(get="deputies.manage")
class Candidates(MethodView):
    @bp.response(200, Colleague(many=True))
    def get(self) -> Any:
        """Colleagues you may name."""
        return deputies.candidates(uow(), api_user_id())


@bp.route("/deputies/<int(max=2147483647):period_id>")
@declares(delete="deputies.manage")
class OneDeputy(MethodView):
    @bp.response(204)
    def delete(self, period_id: int) -> Any:
        """Withdraw one of your periods (a running one ends yesterday)."""
        deputies.end_period(uow(), api_user_id(), period_id)
        return None


@bp.route("/notifications")
@declares(get="account.own")
class Notifications(MethodView):
    @bp.arguments(InboxArgs, location="query")
    @bp.response(200, InboxOut)
    def get(self, args: dict[str, Any]) -> Any:
        """Your notifications, newest first (one per reminder mail)."""
        inbox = reminders.notifications(uow(), api_user_id(), limit=args["limit"],
                                        unread_only=args["unread_only"])
        return {"items": inbox.items, "unread": inbox.unread, "mail_digest": inbox.mail_digest,
                "notify_by_mail": events.notify_by_mail(uow(), api_user_id())}


@bp.route("/notifications/read")
@declares(post="account.own")
class MarkRead(MethodView):
    @bp.arguments(MarkIn)
    @bp.response(200, MarkOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Mark some (or all) of your notifications read."""
        uid = api_user_id()
        return {"marked": reminders.mark_read(uow(), uid, data.get("ids"))}


@bp.route("/notifications/settings")
@declares(put="account.own")
class Digest(MethodView):
    @bp.arguments(DigestIn)
    @bp.response(204)
    def put(self, data: dict[str, Any]) -> Any:
        """Mails one by one or as a daily digest; case updates by mail or in the app only."""
        reminders.set_mail_digest(uow(), api_user_id(), data["mail_digest"])
        if data.get("notify_by_mail") is not None:
            events.set_notify_by_mail(uow(), api_user_id(), data["notify_by_mail"])
        return None
