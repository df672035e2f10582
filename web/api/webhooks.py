"""Webhooks: a reviewer's URL told of every transition in their scope (docs/webhooks.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from web.api.blueprint import Blueprint
from web.api.security import api_user_id
from web.auth import declares
from web.extensions import settings, uow
from workflow.services import webhooks

bp = Blueprint("webhooks_api", __name__, url_prefix="/api/v1/webhooks",
               description="Webhooks: a signed POST for every transition of the cases in your "
                           "scope (provincial and ministry reviewers)")
ID = "int(max=2147483647)"


class WebhookIn(Schema):
    url = fields.String(required=True, validate=validate.Length(1, webhooks.MAX_URL),
                        metadata={"description": "http(s) URL, not on a loopback, private "
                                                 "or link-local address unless the operator "
                                                 "allows it (WEBHOOK_ALLOWED_HOSTS); https "
                                                 "in production unless so allowed",
                                  "example": "https://swt.hubei.gov.cn/eib/webhook"})


class Webhook(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    authority_code = fields.String(allow_none=True, required=True, metadata={
        "description": "the authority whose cases it hears of; null: every case (ministry)",
        "example": "420000"})
    owner_id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class CreatedWebhook(Webhook):
    secret = fields.String(required=True, metadata={
        "description": "the signing secret — shown only now; X-EIB-Signature is "
                       "sha256=HMAC-SHA256(secret, timestamp + '.' + body)"})


class WebhookDelivery(Schema):
    id = fields.Integer(required=True)
    history_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ("pending", "sending", "delivered", "failed", "dead", "cancelled")))
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(required=True)
    last_status_code = fields.Integer(allow_none=True, required=True, metadata={
        "description": "the receiver's HTTP status at the last attempt; null: no answer"})
    last_error = fields.String(allow_none=True, required=True, metadata={
        "description": "why the last attempt failed: 'HTTP <status>', 'no HTTP answer' "
                       "(the connection's own error is only in the server's log) or "
                       "'destination not allowed (…)'", "example": "HTTP 503"})
    created_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(allow_none=True, required=True)


def webhook_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "url": row.url, "authority_code": webhooks.authority_code(row),
            "owner_id": row.owner_id, "created_at": row.created_at}


def delivery_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "history_id": row.history_id, "status": row.status,
            "attempts": row.attempts, "next_attempt_at": row.next_attempt_at,
            "last_status_code": row.last_status_code, "last_error": row.last_error,
            "created_at": row.created_at, "delivered_at": row.delivered_at}


@bp.route("")
@declares(get="webhooks.manage", post="webhooks.manage")
class Webhooks(MethodView):
    @bp.response(200, Webhook(many=True))
    def get(self) -> Any:
        """The webhooks in your scope (your authority's; the ministry: all), newest first."""
        return [webhook_out(r) for r in webhooks.list_visible(uow(), api_user_id())]

    @bp.arguments(WebhookIn, example={"url": "https://swt.hubei.gov.cn/eib/webhook"})
    @bp.response(201, CreatedWebhook)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a URL for your scope's transitions; copy the secret now."""
        return asdict(webhooks.create(uow(), api_user_id(), data["url"],
                                      settings=settings()))


@bp.route(f"/<{ID}:webhook_id>")
@declares(delete="webhooks.manage")
class OneWebhook(MethodView):
    @bp.response(204)
    def delete(self, webhook_id: int) -> Any:
        """Delete a webhook: nothing more is sent to it (queued deliveries are cancelled)."""
        webhooks.delete(uow(), api_user_id(), webhook_id)
        return None


@bp.route(f"/<{ID}:webhook_id>/deliveries")
@declares(get="webhooks.manage")
class Deliveries(MethodView):
    @bp.response(200, WebhookDelivery(many=True))
    def get(self, webhook_id: int) -> Any:
        """The webhook's latest 100 deliveries, newest first."""
        return [delivery_out(r) for r in webhooks.deliveries(uow(), api_user_id(), webhook_id)]


@bp.route(f"/<{ID}:webhook_id>/deliveries/<{ID}:delivery_id>/retry")
@declares(post="webhooks.manage")
class RetryDelivery(MethodView):
    @bp.response(200, WebhookDelivery)
    def post(self, webhook_id: int, delivery_id: int) -> Any:
        """Send a failed or dead delivery again now (its attempts start over)."""
        return delivery_out(webhooks.retry(uow(), api_user_id(), webhook_id, delivery_id))
