"""What the reviewers' pages need besides the case itself: days left, filter choices,
attachments to list and download, names for bulk results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from workflow import permissions
from workflow.regions import Region
from workflow.roles import Actor
from workflow.services import cases, files
from workflow.services.clock import today as china_today
from workflow.states import DESIGNATED
from workflow.storage import (
    casepages,
    reference_repo,
    rounds_repo,
    scope_repo,
    users_repo,
)
from workflow.storage.models import ApplicationRow, AttachmentRow, AuthorityRow
from workflow.storage.uow import DbSession, UnitOfWork


def working_days_left(uow: UnitOfWork, deadlines: list[date | None],
                      today: date | None = None) -> dict[date, int]:
    """Working days from today (in China) to each deadline; negative once overdue."""
    today = today or china_today()
    with uow.read():
        calendar = reference_repo.load_calendar(uow.session)
    return {d: calendar.working_days_left(today, d) for d in set(deadlines) if d is not None}


def settled(uow: UnitOfWork, rows: list[ApplicationRow], today: date | None = None) -> set[int]:
    """The listed cases whose round has closed and that are not bases: no deadline runs
    for them any more (the page says the round has ended instead of counting days)."""
    today = today or china_today()
    with uow.read():
        closed = set(rounds_repo.closed_round_ids(uow.session, today))
    return {r.id for r in rows if r.round_id in closed and r.state not in DESIGNATED}


@dataclass
class FilterChoices:
    authorities: list[AuthorityRow]  # empty: no filter by province
    regions: list[Region]  # empty: no filter by region
    round_years: list[int]
    cities: list[AuthorityRow]  # a province's cities; empty: no filter by city

    def ignored(self, authority: str | None) -> tuple[str, ...]:
        """The filters by place that do not apply to this user's list (an old link's): by
        region or province where the cases are one place, and by an authority that is not
        one of the user's cities."""
        if self.regions:
            return ()
        if authority and authority in {c.code for c in self.cities}:
            return ("region",)
        return ("region", "authority")


def filter_choices(uow: UnitOfWork, user_id: int) -> FilterChoices:
    """What this user's inbox can be filtered by: regions and provinces only where the
    cases they see span places (permissions.spans_places), cities where they are a
    province's tree (permissions.spans_cities), and the rounds."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        places = permissions.spans_places(user)
        cities = (casepages.cities_of(s, user.authority_id)
                  if permissions.spans_cities(user) else [])
        return FilterChoices(casepages.authorities(s) if places else [],
                             list(Region) if places else [], casepages.round_years(s), cities)


def names_of(uow: UnitOfWork, user_id: int, app_ids: list[int]) -> dict[int, str | None]:
    """Applicant names of the cases this user may see (others are simply absent)."""
    with uow.read():
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "case.view")
        principals = scope_repo.principals_of(s, user.id, china_today())
        return casepages.names_in_scope(s, scope_repo.scope_filter(user, principals), app_ids)


def _reader_of_case(s: DbSession, user_id: int, app_id: int) -> Actor:
    """The user as they act on the case, if they may see it (404 otherwise)."""
    return cases.case_for(s, users_repo.user_by_id(s, user_id), app_id, "case.view")[1]


def attachments_of(uow: UnitOfWork, user_id: int, app_id: int) -> list[AttachmentRow]:
    """The current attachments of a case the user may see (404 otherwise); objection
    evidence only to the ministry (files.may_see)."""
    with uow.read():
        s = uow.session
        actor = _reader_of_case(s, user_id, app_id)
        return [a for a in casepages.attachments_of(s, app_id)
                if files.may_see(actor.role, a.kind)]


@dataclass
class AttachmentFile:
    """One stored file as the case page lists it: its version among the files of its kind
    (None where files of a kind are not versions of one another, e.g. objections' evidence),
    who uploaded it, whether the page can show it, and the versions it replaced."""

    row: AttachmentRow
    uploader: str
    version: int | None
    previewable: bool
    earlier: list[AttachmentFile]


def attachment_files(uow: UnitOfWork, user_id: int, app_id: int) -> list[AttachmentFile]:
    """The current attachments of a case the user may see (404 otherwise), oldest first,
    each with its earlier versions, newest first: a replaced file is kept, never lost."""
    with uow.read():
        s = uow.session
        actor = _reader_of_case(s, user_id, app_id)
        by_kind: dict[str, list[tuple[AttachmentRow, str | None]]] = {}
        for att, name in casepages.every_attachment_of(s, app_id):
            if files.may_see(actor.role, att.kind):
                by_kind.setdefault(att.kind, []).append((att, name))
        out: list[AttachmentFile] = []
        for rows in by_kind.values():
            chain = sum(1 for a, _ in rows if not a.superseded) == 1
            listed = [AttachmentFile(a, name or "—", (n + 1) if chain else None,
                                     a.content_type in files.PREVIEWABLE, [])
                      for n, (a, name) in enumerate(rows)]
            current = [f for f in listed if not f.row.superseded] or listed
            if chain:
                current[0].earlier = [e for e in reversed(listed) if e.row.superseded]
            out += current
        return sorted(out, key=lambda f: (f.row.uploaded_at, f.row.id))


def attachment_for_download(uow: UnitOfWork, user_id: int, app_id: int, attachment_id: int,
                            upload_dir: Path) -> tuple[AttachmentRow, Path]:
    """An attachment and where its bytes are, if the user may see its case (404 otherwise)."""
    with uow.read():
        s = uow.session
        user = permissions.require(users_repo.user_by_id(s, user_id), "case.view")
        att = casepages.attachment(s, attachment_id)
        if att is None or att.application_id != app_id:
            raise scope_repo.not_found("attachment")
        # case.view was required before the attachment was looked up
        _row, actor = cases.case_for(s, user, app_id, None, what="attachment")
        if not files.may_see(actor.role, att.kind):
            raise scope_repo.not_found("attachment")  # never say that a hidden file exists
        path = (upload_dir / att.stored_name).resolve()
        if path.parent != upload_dir.resolve() or not path.is_file():
            raise scope_repo.not_found("attachment")
        return att, path
