"""Attachments: list, upload (multipart, checked by content like the UI), download."""

from __future__ import annotations

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
from workflow.programme import all_attachment_kinds
from workflow.services import attachments, files

bp = Blueprint("attachments_api", __name__, url_prefix="/api/v1",
               description="Attachments (附件): 申报书, 发展方案, 推荐文件 (002 §六(三))")

UPLOAD_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["kind", "file"], "properties": {
        "kind": {"type": "string", "enum": all_attachment_kinds(),
                 "description": "a kind of the case's programme ([[attachments]] in its "
                                "definition, GET /api/v1/programmes/{code}: who adds it, "
                                "in which states); notice 002: application_form / "
                                "development_plan / other by the applicant while drafting, "
                                "recommendation_letter by the province"},
        "file": {"type": "string", "format": "binary",
                 "description": "PDF, DOC(X), XLS(X), PNG or JPG; checked by content"}}},
    "encoding": {"file": {"contentType": ", ".join(sorted(set(files.EXTENSIONS.values())))}},
}}}}


class AttachmentOut(Schema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"example": "development_plan"})
    filename = fields.String(required=True, metadata={"example": "发展方案.pdf"})
    content_type = fields.String(required=True, metadata={"example": "application/pdf"})
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True, validate=validate.Length(equal=64))
    uploaded_at = fields.DateTime(required=True)
    superseded = fields.Boolean(required=True, metadata={
        "description": "a newer file of the same kind replaced it"})
    download = fields.String(required=True, metadata={"example": "/api/v1/attachments/7/content"})


def attachment_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "application_id": row.application_id, "kind": row.kind,
            "filename": row.filename, "content_type": row.content_type,
            "size_bytes": row.size_bytes, "sha256": row.sha256, "uploaded_at": row.uploaded_at,
            "superseded": row.superseded, "download": f"/api/v1/attachments/{row.id}/content"}


@bp.route("/applications/<int(max=2147483647):app_id>/attachments")
@declares(get="case.view", post="case.attach")
class Attachments(MethodView):
    decorators = [UPLOAD_LIMIT]  # POST only: uploads per user (429 rate_limited)

    @bp.response(200, AttachmentOut(many=True))
    def get(self, app_id: int) -> Any:
        """The files of an application you may see."""
        return [attachment_out(r) for r in attachments.list_for(uow(), api_user_id(), app_id)]

    @bp.doc(**UPLOAD_DOC)
    @bp.response(201, AttachmentOut)
    @bp.alt_response(429, **too_many(UPLOAD_TOO_MANY))
    def post(self, app_id: int) -> Any:
        """Upload a file (multipart/form-data: kind, file); a newer one of the same kind
        supersedes the old. Same checks as the web form (files.attach)."""
        uid = api_user_id()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationFailed(refuse("required", "文件：必填", "file: is required",
                                          field="file"))
        settings = current_app.config["SETTINGS"]
        stored = files.attach(uow(), uid, app_id, request.form.get("kind", ""),
                              upload.filename, upload.read(), settings.upload_dir,
                              settings.max_upload_mb * 1024 * 1024)
        row = next(r for r in attachments.list_for(uow(), uid, app_id) if r.id == stored.id)
        return attachment_out(row)


MULTIPART_ENDPOINTS["attachments_api.Attachments"] = ("multipart/form-data",)


@bp.route("/attachments/<int(max=2147483647):attachment_id>/content")
@declares(get="case.view")
class Content(MethodView):
    @bp.doc(responses={"200": {"description": "the file, as an attachment", "content": {
        ctype: {"schema": {"type": "string", "format": "binary"}}
        for ctype in sorted(set(files.EXTENSIONS.values()))}}})
    def get(self, attachment_id: int) -> Any:
        """Download one file (Content-Disposition: attachment)."""
        dl = attachments.for_download(uow(), api_user_id(), attachment_id,
                                      current_app.config["SETTINGS"].upload_dir)
        resp = send_file(dl.path, mimetype=dl.row.content_type, as_attachment=True,
                         download_name=dl.row.filename, max_age=0)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Cache-Control"] = "private, no-store"
        return resp
