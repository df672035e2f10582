"""Reading a case's attachments: the list, and one file's bytes for download.

Who may see the case may see its files (scope_repo.actor_for_case, deputies included); nobody
else learns that a file exists. Adding files stays in `files.attach`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workflow.errors import NotFound
from workflow.roles import Role
from workflow.services import cases, files
from workflow.storage import api_repo, scope_repo, users_repo
from workflow.storage.models import AttachmentRow, UserRow
from workflow.storage.uow import DbSession, UnitOfWork


def _may_see_case(s: DbSession, user: UserRow, app_id: int) -> Role:
    """The role the user acts in on the case, or 404."""
    return cases.case_for(s, user, app_id, "case.view")[1].role


def list_for(uow: UnitOfWork, user_id: int, app_id: int) -> list[AttachmentRow]:
    """The attachments of a case the user may see (superseded ones included, marked);
    objection evidence only to the ministry (files.may_see)."""
    with uow.read():
        s = uow.session
        role = _may_see_case(s, users_repo.user_by_id(s, user_id), app_id)
        return [a for a in api_repo.attachments_of(s, app_id) if files.may_see(role, a.kind)]


@dataclass
class Download:
    row: AttachmentRow
    path: Path


def for_download(uow: UnitOfWork, user_id: int, attachment_id: int,
                 upload_dir: Path) -> Download:
    """One attachment's stored file, if the user may see its case."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row = s.get(AttachmentRow, attachment_id)
        if row is None or row.application_id is None:
            raise scope_repo.not_found("attachment")
        try:
            role = _may_see_case(s, user, row.application_id)
        except NotFound:
            raise scope_repo.not_found("attachment") from None
        if not files.may_see(role, row.kind):
            raise scope_repo.not_found("attachment")  # objection evidence: the ministry's only
        path = upload_dir / row.stored_name
        if not path.is_file():
            raise scope_repo.not_found("attachment")
        return Download(row, path)
