"""Queries of the tree of authorities: the tree as the checks see it, what each authority
holds (cases, accounts, webhooks), and the cities written by the system administrator."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.authorities import City, Known
from workflow.regions import Region
from workflow.storage.models import ApplicationRow, AuthorityRow, UserRow, WebhookRow


def all_rows(session: Session) -> list[AuthorityRow]:
    """Every authority, each province-level one followed by its cities (by code)."""
    rows = list(session.scalars(select(AuthorityRow).order_by(AuthorityRow.code)))
    cities: dict[int, list[AuthorityRow]] = {}
    for r in rows:
        if r.parent_id is not None:
            cities.setdefault(r.parent_id, []).append(r)
    out: list[AuthorityRow] = []
    for r in rows:
        if r.parent_id is None:
            out += [r, *cities.get(r.id, [])]
    return out


def known(session: Session) -> dict[str, Known]:
    """The tree on file, as `workflow.authorities` checks entries against it."""
    rows = all_rows(session)
    codes = {r.id: r.code for r in rows}
    return {r.code: Known(r.code, r.name_zh, r.name_en,
                          codes[r.parent_id] if r.parent_id is not None else None, r.kind,
                          Region(r.region), r.region_overridden, r.is_active)
            for r in rows}


def holdings(session: Session) -> dict[int, tuple[int, int]]:
    """authority id -> (its cases, its accounts), for those that hold any."""
    cases: dict[int, int] = {i: int(n) for i, n in session.execute(
        select(ApplicationRow.authority_id, func.count())
        .group_by(ApplicationRow.authority_id))}
    users: dict[int, int] = {i: int(n) for i, n in session.execute(
        select(UserRow.authority_id, func.count()).where(UserRow.authority_id.is_not(None))
        .group_by(UserRow.authority_id)) if i is not None}
    return {i: (cases.get(i, 0), users.get(i, 0)) for i in {*cases, *users}}


def held_by(session: Session, authority_id: int) -> tuple[int, int, int]:
    """(cases, accounts, webhooks) of one authority."""
    counts = [select(func.count()).select_from(ApplicationRow)
              .where(ApplicationRow.authority_id == authority_id),
              select(func.count()).select_from(UserRow)
              .where(UserRow.authority_id == authority_id),
              select(func.count()).select_from(WebhookRow)
              .where(WebhookRow.authority_id == authority_id)]
    cases, users, hooks = (int(session.scalar(q) or 0) for q in counts)
    return cases, users, hooks


def by_code_for_update(session: Session, code: str) -> AuthorityRow | None:
    q = select(AuthorityRow).where(AuthorityRow.code == code).with_for_update(of=AuthorityRow)
    return session.scalars(q).unique().first()


def add_city(session: Session, city: City, parent: AuthorityRow) -> AuthorityRow:
    row = AuthorityRow(code=city.code, name_zh=city.name_zh, name_en=city.name_en,
                       kind=city.kind, parent_id=parent.id,
                       region=city.effective_region(Region(parent.region)).value,
                       region_overridden=city.region is not None, is_active=True)
    session.add(row)
    return row


def update_city(row: AuthorityRow, city: City, parent: AuthorityRow) -> dict[str, list[str]]:
    """Bring a city on file up to `city`; returns what changed (name -> [before, after])."""
    after = {"name_zh": city.name_zh, "name_en": city.name_en, "kind": city.kind,
             "region": city.effective_region(Region(parent.region)).value,
             "region_overridden": city.region is not None}
    changed = {k: [getattr(row, k), v] for k, v in after.items() if getattr(row, k) != v}
    for k, (_, v) in changed.items():
        setattr(row, k, v)
    return changed


def delete(session: Session, row: AuthorityRow) -> None:
    session.delete(row)


def authorities_by_code(session: Session) -> dict[str, AuthorityRow]:
    return {a.code: a for a in session.scalars(select(AuthorityRow))}


def named_by_codes(session: Session, names: set[str]) -> dict[str, AuthorityRow]:
    """The authorities among `names` that are codes on file (a form's city column holds a
    code once picked from the list, a name as typed before), by code."""
    codes = [n for n in names if len(n) == 6 and n.isdigit()]
    if not codes:
        return {}
    return {a.code: a for a in session.scalars(
        select(AuthorityRow).where(AuthorityRow.code.in_(codes)))}


def authority_by_code(session: Session, code: str) -> AuthorityRow | None:
    return session.scalars(select(AuthorityRow).where(AuthorityRow.code == code)).first()
