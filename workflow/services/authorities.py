"""Use cases of the tree of authorities (`workflow.authorities`): everyone signed in reads
it; the system administrator (系统管理员) adds a prefecture-level city under a province,
renames it, classes it apart from its province's region or back, deactivates it (its cases
and history stay; it starts no new application and gets no new account), deletes one that
holds nothing, and imports a list of cities from Excel or CSV — all of it or nothing.

The 37 province-level authorities are those of 002 (`workflow.regions`): fixed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflow import permissions
from workflow.authorities import check_city, check_rows
from workflow.errors import NotFound, ValidationFailed, VersionConflict, refuse
from workflow.services import audit, authority_import
from workflow.services.clock import real_utcnow
from workflow.storage import authorities_repo, users_repo
from workflow.storage.models import AuthorityRow
from workflow.storage.uow import Conflict, DbSession, UnitOfWork, flush_or_conflict

MAX_ERRORS = 200  # of a refused list, the first this many are named


@dataclass(frozen=True)
class Entry:
    """One authority of the tree, as the pages, the API and the CLI show it."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    region: str
    region_overridden: bool
    is_active: bool
    parent_code: str | None
    parent_name_zh: str | None
    parent_name_en: str | None
    cases: int | None = None  # the system administrator's listing only
    accounts: int | None = None

    @property
    def is_city(self) -> bool:
        return self.parent_code is not None

    @property
    def may_be_deleted(self) -> bool:
        """A city that holds no case and no account (its history would go with it)."""
        return self.is_city and not self.cases and not self.accounts


@dataclass
class Imported:
    """What an imported list did: cities created, brought up to date, already so."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _entry(row: AuthorityRow, held: tuple[int, int] | None = None) -> Entry:
    parent = row.parent
    return Entry(row.code, row.name_zh, row.name_en, row.kind, row.region,
                 row.region_overridden, row.is_active, parent.code if parent else None,
                 parent.name_zh if parent else None, parent.name_en if parent else None,
                 *(held or (None, None)))


def tree(uow: UnitOfWork, user_id: int) -> list[Entry]:
    """Every authority, each province-level one followed by its cities (anyone signed in)."""
    with uow.read():
        users_repo.user_by_id(uow.session, user_id)
        return [_entry(r) for r in authorities_repo.all_rows(uow.session)]


def listing(uow: UnitOfWork, admin_id: int) -> list[Entry]:
    """The tree with what each authority holds (cases, accounts): the system admin's."""
    with uow.read():
        s = uow.session
        permissions.require(users_repo.user_by_id(s, admin_id), "authorities.admin")
        held = authorities_repo.holdings(s)
        return [_entry(r, held.get(r.id, (0, 0))) for r in authorities_repo.all_rows(s)]


def _city_row(s: DbSession, code: str) -> AuthorityRow:
    """The city `code`, locked; a province-level authority is refused (002 fixes them)."""
    row = authorities_repo.by_code_for_update(s, str(code or "")[:20])
    if row is None:
        raise NotFound(refuse("not_found", "没有该单位", f"no authority {str(code)[:20]}",
                              field="code"))
    if not row.is_city:
        raise ValidationFailed(refuse(
            "province_level_fixed", f"{row.name_zh}是 002 规定的省级单位，不能修改、停用或删除",
            f"{row.name_en} is a province-level authority of notice 002: it is not changed, "
            "deactivated or deleted", field="code", details={"value": row.code}))
    return row


def _stored(s: DbSession) -> None:
    try:
        flush_or_conflict(s)
    except Conflict:
        raise VersionConflict(refuse("version_conflict", "单位列表已被他人修改，请刷新后重试",
                                     "someone changed the authorities meanwhile; reload and "
                                     "try again")) from None


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The entry as typed: code, name_zh, name_en, parent, region ('' = the province's)."""
    return {k: ("" if data.get(k) is None else str(data.get(k)))[:200]
            for k in ("code", "name_zh", "name_en", "parent", "region")}


def add_city(uow: UnitOfWork, admin_id: int, data: dict[str, Any],
             now: datetime | None = None) -> Entry:
    """Add a prefecture-level city under a province (its region the province's unless
    `region` says otherwise)."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "authorities.admin")
        city, errors = check_city(_fields(data), authorities_repo.known(s))
        if errors:
            raise ValidationFailed(*errors)
        assert city is not None
        parent = authorities_repo.authority_by_code(s, city.parent_code)
        assert parent is not None
        row = authorities_repo.add_city(s, city, parent)
        _stored(s)
        audit.append(s, "authority_added", who=audit.Who.of(admin), object_type="authority",
                     object_id=city.code, now=now,
                     details={"parent": parent.code, "name_zh": city.name_zh,
                              "region": row.region, "region_overridden": row.region_overridden})
        uow.commit()
        return _entry(row, (0, 0))


def change_city(uow: UnitOfWork, admin_id: int, code: str, data: dict[str, Any],
                now: datetime | None = None) -> Entry:
    """Rename a city (Chinese, English) or class it: `region` a region of its own, or ''
    for its province's. Keys not given keep their values."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "authorities.admin")
        row = _city_row(s, code)
        parent = row.province
        raw = {"code": row.code, "parent": parent.code, "name_zh": row.name_zh,
               "name_en": row.name_en, "region": row.region if row.region_overridden else ""}
        raw.update({k: v for k, v in _fields(data).items()
                    if k in data and k in ("name_zh", "name_en", "region")})
        city, errors = check_city(raw, authorities_repo.known(s), editing=row.code)
        if errors:
            raise ValidationFailed(*errors)
        assert city is not None
        changed = authorities_repo.update_city(row, city, parent)
        if changed:
            _stored(s)
            audit.append(s, "authority_changed", who=audit.Who.of(admin),
                         object_type="authority", object_id=row.code, now=now,
                         details={"changed": changed})
        uow.commit()
        return _entry(row)


def set_active(uow: UnitOfWork, admin_id: int, code: str, active: bool,
               now: datetime | None = None) -> Entry:
    """Deactivate a city (its cases, accounts and history stay; it starts no application
    and gets no new account) or activate it again."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "authorities.admin")
        row = _city_row(s, code)
        if row.is_active != active:
            row.is_active = active
            _stored(s)
            audit.append(s, "authority_activated" if active else "authority_deactivated",
                         who=audit.Who.of(admin), object_type="authority",
                         object_id=row.code, now=now, details={"name_zh": row.name_zh})
        uow.commit()
        return _entry(row)


def delete_city(uow: UnitOfWork, admin_id: int, code: str, now: datetime | None = None) -> None:
    """Delete a city entered by mistake: only while it holds no case, no account and no
    webhook (a city with cases is deactivated instead: its history stays)."""
    now = now or real_utcnow()
    with uow:
        s = uow.session
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "authorities.admin")
        row = _city_row(s, code)
        cases, accounts, hooks = authorities_repo.held_by(s, row.id)
        if cases:
            raise ValidationFailed(refuse(
                "authority_has_cases", f"{row.name_zh}有 {cases} 件申报，不能删除（可以停用，历史记录保留）",
                f"{row.name_en or row.name_zh} has {cases} case(s): it cannot be deleted "
                "(deactivate it instead; its history stays)", field="code",
                details={"value": row.code, "cases": cases}))
        if accounts or hooks:
            raise ValidationFailed(refuse(
                "authority_has_accounts", f"{row.name_zh}还有 {accounts} 个账号，不能删除（请先调整账号所属单位）",
                f"{row.name_en or row.name_zh} still has {accounts} account(s): move them "
                "first", field="code", details={"value": row.code, "accounts": accounts}))
        detail = {"parent": row.province.code, "name_zh": row.name_zh}
        authorities_repo.delete(s, row)
        _stored(s)
        audit.append(s, "authority_deleted", who=audit.Who.of(admin), object_type="authority",
                     object_id=code, now=now, details=detail)
        uow.commit()


def check_list(uow: UnitOfWork, admin_id: int, filename: str, data: bytes,
               max_bytes: int) -> Imported:
    """What importing the list would do, storing nothing (refused as `import_list` would)."""
    with uow.read():
        permissions.require(users_repo.user_by_id(uow.session, admin_id), "authorities.admin")  # who may import, before the file is looked at
    rows = authority_import.read_rows(filename, data, max_bytes)  # no transaction held
    with uow.read():
        checked = check_rows(rows, authorities_repo.known(uow.session))
    if checked.errors:
        raise ValidationFailed(*checked.errors[:MAX_ERRORS])
    return Imported([c.code for c in checked.new], [c.code for c in checked.changed],
                    [c.code for c in checked.unchanged])


def import_list(uow: UnitOfWork, admin_id: int, filename: str, data: bytes, max_bytes: int,
                now: datetime | None = None) -> Imported:
    """Import a list of cities (columns code, name, parent; optional name_en, region): every
    row is checked first, and if any is refused nothing is stored — the refusal names each
    bad row and field. Cities on file are brought up to date; others are left alone."""
    now = now or real_utcnow()
    with uow.read():
        permissions.require(users_repo.user_by_id(uow.session, admin_id), "authorities.admin")
    rows = authority_import.read_rows(filename, data, max_bytes)
    with uow:
        s = uow.session
        admin = permissions.require(users_repo.user_by_id(s, admin_id), "authorities.admin")
        known = authorities_repo.known(s)
        checked = check_rows(rows, known)
        if checked.errors:
            raise ValidationFailed(*checked.errors[:MAX_ERRORS])
        out = Imported(unchanged=[c.code for c in checked.unchanged])
        parents = {c.parent_code: authorities_repo.authority_by_code(s, c.parent_code)
                   for c in [*checked.new, *checked.changed]}
        for city in checked.new:
            parent = parents[city.parent_code]
            assert parent is not None
            authorities_repo.add_city(s, city, parent)
            out.created.append(city.code)
        for city in checked.changed:
            row = authorities_repo.by_code_for_update(s, city.code)
            parent = parents[city.parent_code]
            assert row is not None and parent is not None
            authorities_repo.update_city(row, city, parent)
            out.updated.append(city.code)
        _stored(s)
        audit.append(s, "authorities_imported", who=audit.Who.of(admin),
                     object_type="authority", now=now,
                     details={"file": (filename or "")[:200], "created": out.created,
                              "updated": out.updated, "unchanged": len(out.unchanged)})
        uow.commit()
        return out

