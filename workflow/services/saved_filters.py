"""A user's saved inbox filters (保存的筛选, issue 17): the inbox's filters, search and order
kept under a name, listed as links in that user's inbox only."""

from __future__ import annotations

from dataclasses import dataclass

from workflow.errors import ValidationFailed, refuse
from workflow.services.clock import utcnow
from workflow.storage import casepages, scope_repo, users_repo
from workflow.storage.models import SavedFilterRow
from workflow.storage.uow import UnitOfWork

NAME_MAX = 40  # characters: a short link in the inbox
PER_USER_MAX = 30


@dataclass(frozen=True)
class SavedFilter:
    id: int
    name: str
    params: dict[str, str]


def list_for(uow: UnitOfWork, user_id: int) -> list[SavedFilter]:
    """The user's saved filters, in the order they were saved."""
    with uow.read():
        s = uow.session
        users_repo.user_by_id(s, user_id)
        return [SavedFilter(r.id, r.name, dict(r.params))
                for r in casepages.saved_filters_of(s, user_id)]


def _name_refused(zh: str, en: str, name: str) -> ValidationFailed:
    return ValidationFailed(refuse("invalid_name", zh, en, field="name",
                                   details={"value": name[:NAME_MAX * 2]}))


def save(uow: UnitOfWork, user_id: int, name: str, params: dict[str, str]) -> SavedFilter:
    """Keep `params` (the inbox's query arguments) under `name`; the name is required, at
    most 40 characters and not one of the user's other saved filters."""
    name = " ".join((name or "").split())
    if not name:
        raise _name_refused("请填写筛选名称", "enter a name for the filter", name)
    if len(name) > NAME_MAX:
        raise _name_refused(f"筛选名称不能超过 {NAME_MAX} 个字",
                            f"the filter's name may have at most {NAME_MAX} characters", name)
    with uow:
        s = uow.session
        users_repo.user_by_id(s, user_id)
        mine = casepages.saved_filters_of(s, user_id)
        if any(r.name == name for r in mine):
            raise _name_refused(f"已有名为“{name}”的筛选，请换一个名称",
                                f"you already have a filter named “{name}”", name)
        if len(mine) >= PER_USER_MAX:
            raise _name_refused(f"最多保存 {PER_USER_MAX} 个筛选，请先删除不用的",
                                f"at most {PER_USER_MAX} saved filters: delete one first", name)
        row = SavedFilterRow(user_id=user_id, name=name,
                             params={str(k): str(v) for k, v in params.items() if v},
                             created_at=utcnow())
        s.add(row)
        s.flush()
        saved = SavedFilter(row.id, row.name, dict(row.params))
        uow.commit()
        return saved


def delete(uow: UnitOfWork, user_id: int, filter_id: int) -> str:
    """Delete one of the user's saved filters; returns its name (404 if not theirs)."""
    with uow:
        s = uow.session
        row = s.get(SavedFilterRow, filter_id)
        if row is None or row.user_id != user_id:
            raise scope_repo.not_found("saved filter")
        name = row.name
        s.delete(row)
        uow.commit()
        return name
