"""The inbox: applications in a user's scope, filtered, searched, sorted and
keyset-paginated."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from workflow.paging import API_MAX_PAGE, PAGE_SIZE, PAGE_SIZES
from workflow.states import DESIGNATED
from workflow.storage.models import (
    NO_DUE_DATE,
    ApplicationRow,
    AuthorityRow,
    RoundRow,
    due_sort_key,
)
from workflow.storage.types import UTCDateTime

FAR_PAST = datetime(1900, 1, 1, tzinfo=UTC)  # a draft's submission date, for sorting


INBOX_SORTS = ("due", "applicant", "state", "submitted")

# The limits the product asks pages for: the inbox's page sizes (workflow.paging),
# the API's default and largest page, the other tab's count (1), each with the one row
# more that says whether a next page follows, and the one row that says whether a
# previous page exists. These are written into the SQL: a bound LIMIT is unknown to a
# prepared statement's generic plan (PostgreSQL guesses a tenth of the rows), which then
# looks costlier than a custom one, so the page was planned afresh on every call. Any
# other limit (an API client's own) stays a bound parameter.
WRITTEN_LIMITS = frozenset({1} | {n + 1 for n in (1, *PAGE_SIZES, PAGE_SIZE, API_MAX_PAGE)})


def inbox_sort_key(sort: str, state_order: Sequence[str] = ()) -> Any:
    """The SQL value an inbox sort orders by (never NULL, so a keyset can compare it):
    due date, applicant name, state in its programme's order, or submission date."""
    if sort == "applicant":
        return func.coalesce(ApplicationRow.applicant_name, "")
    if sort == "state":
        return case({k: i for i, k in enumerate(state_order)}, value=ApplicationRow.state,
                    else_=len(state_order))
    if sort == "submitted":
        return func.coalesce(ApplicationRow.submitted_at, literal(FAR_PAST, UTCDateTime()))
    return due_sort_key()


def inbox_sort_value(row: ApplicationRow, sort: str, state_order: Sequence[str] = ()) -> Any:
    """A row's value of `inbox_sort_key` (for the next page's cursor)."""
    if sort == "applicant":
        return row.applicant_name or ""
    if sort == "state":
        return state_order.index(row.state) if row.state in state_order else len(state_order)
    if sort == "submitted":
        return row.submitted_at or FAR_PAST
    return row.due_on or NO_DUE_DATE


def _matching(q: str, industry_codes: Sequence[str]) -> Any:
    """An application matching a search: its applicant's name, its authority's name (or
    its province's), its case number, or its industry field."""
    term = q.strip()
    named = select(AuthorityRow.id).where(or_(
        AuthorityRow.name_zh.contains(term, autoescape=True),
        AuthorityRow.name_en.icontains(term, autoescape=True)))
    found = [ApplicationRow.applicant_name.contains(term, autoescape=True),
             ApplicationRow.authority_id.in_(select(AuthorityRow.id).where(or_(
                 AuthorityRow.id.in_(named), AuthorityRow.parent_id.in_(named)))),
             ApplicationRow.industry_field.in_(list(industry_codes))]
    number = term.lstrip("#＃")
    if number.isdigit() and len(number) < 10:
        found.append(ApplicationRow.id == int(number))
    return or_(*found)


def _written(values: Sequence[Any], name: str) -> Any:
    """`values` written into the SQL (IN lists of the product's own state keys and round
    ids, never user input): bound, the generic plan of a prepared statement guesses an
    average state's share of the cases where a custom plan knows these states' own, so
    it was judged costlier on every call (for the ministry's waiting tab it would also
    have run several times slower)."""
    return bindparam(name, list(values), expanding=True, literal_execute=True)


def _limited(query: Any, limit: int) -> Any:
    return query.limit(literal_column(str(int(limit))) if limit in WRITTEN_LIMITS else limit)


def page_applications(session: Session, scope: Any, *, state: str | None, states: list[str] | None,
                      region: str | None, authority: str | None, round_year: int | None,
                      kind: str | None, q: str | None, limit: int,
                      after: tuple[Any, int] | None, count: bool,
                      settled_rounds: Sequence[int] = (), programme_code: str | None = None,
                      sort: str = "due", descending: bool = False,
                      state_order: Sequence[str] = (), industry_codes: Sequence[str] = (),
                      before: tuple[Any, int] | None = None
                      ) -> tuple[list[ApplicationRow], int]:
    """Applications in `scope`, filtered, ordered by (`sort` key, id) either way,
    keyset-paginated: the `limit` rows after `after`, or the `limit` rows just before
    `before` (still in the page's order). In `settled_rounds` (closed ones) only designated
    bases are listed."""
    where = [scope]
    if state:
        where.append(ApplicationRow.state == state)
    if states is not None:  # the states waiting on the user's role
        where.append(ApplicationRow.state.in_(_written(states, "waiting")))
    if settled_rounds:
        where.append(or_(ApplicationRow.round_id.not_in(_written(settled_rounds, "settled")),
                         ApplicationRow.state.in_(_written([d.value for d in DESIGNATED],
                                                           "designated"))))
    if kind:
        where.append(ApplicationRow.kind == kind)
    if q:
        where.append(_matching(q, industry_codes))
    if region or authority:
        sub = select(AuthorityRow.id)
        if region:
            sub = sub.where(AuthorityRow.region == region)
        if authority:  # a province's code takes in its cities
            named = select(AuthorityRow.id).where(AuthorityRow.code == authority)
            sub = sub.where(or_(AuthorityRow.id.in_(named), AuthorityRow.parent_id.in_(named)))
        where.append(ApplicationRow.authority_id.in_(sub))
    if round_year or programme_code:
        rounds_wanted = select(RoundRow.id)
        if round_year:
            rounds_wanted = rounds_wanted.where(RoundRow.year == round_year)
        if programme_code:
            rounds_wanted = rounds_wanted.where(RoundRow.programme == programme_code)
        where.append(ApplicationRow.round_id.in_(rounds_wanted))
    total = int(session.scalar(select(func.count()).select_from(ApplicationRow).where(*where))
                or 0) if count else -1
    key = inbox_sort_key(sort, state_order)
    query = select(ApplicationRow).where(*where)
    backwards = before is not None
    downwards = descending != backwards  # walking the key from high to low
    if after or before:
        value, cid = after or before  # type: ignore[misc]
        if downwards:
            query = query.where((key < value) | ((key == value) & (ApplicationRow.id < cid)))
        else:
            query = query.where((key > value) | ((key == value) & (ApplicationRow.id > cid)))
    order = (key.desc(), ApplicationRow.id.desc()) if downwards else (key, ApplicationRow.id)
    rows = list(session.scalars(_limited(query.order_by(*order), limit)).unique())
    return (rows[::-1] if backwards else rows), total
