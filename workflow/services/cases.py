"""Use cases on applications: drafts, reading, listing, firing triggers, eligibility."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from typing import Any

from workflow import effects, eligibility, machine, permissions, register
from workflow.errors import (
    DomainError,
    Forbidden,
    GuardFailed,
    Refusal,
    ValidationFailed,
    VersionConflict,
    refuse,
)
from workflow.form import FormDef
from workflow.model import Case, Context
from workflow.programme import DEFAULT_CODE, Programme, TransitionDef
from workflow.programme import known as known_programmes
from workflow.roles import Actor, Role
from workflow.rules import EXISTING_BASE_TYPES, FIELD_ZH, RoundRules, RoundStatus
from workflow.services import audit, observe
from workflow.services.clock import local_date, utcnow
from workflow.states import DECISIONS, PROGRAMME, register_change
from workflow.storage import (
    audit_repo,
    authorities_repo,
    cases_repo,
    events_repo,
    inbox_repo,
    reference_repo,
    register_repo,
    rounds_repo,
    scope_repo,
    users_repo,
)
from workflow.storage.models import (
    ApplicationRow,
    AuthorityRow,
    HistoryRow,
    ProductRow,
    RoundRow,
    UserRow,
)
from workflow.storage.uow import Conflict, UnitOfWork, flush_or_conflict, lost_connection
from workflow.storage.uow import DbConnection as Connection
from workflow.storage.uow import DbSession as Session

_log = logging.getLogger(__name__)


@dataclass
class Loaded:
    """An application with what the caller may do with it."""

    row: ApplicationRow
    case: Case
    actor: Actor
    rules: RoundRules
    triggers: list[str]
    # what the actor's role could do in this state but a guard refuses now, and why
    refused: dict[str, list[Refusal]] = field(default_factory=dict)
    # what an allowed trigger will ask for when fired: an override of a failed criterion,
    # a reason for being late (002 §六, §六(三))
    asks: dict[str, list[Refusal]] = field(default_factory=dict)


def _conflict(expected: int, actual: int) -> VersionConflict:
    return VersionConflict(refuse(
        "version_conflict", "该申报已被他人更新，请查看最新状态后再操作",
        "someone else changed this case meanwhile; review its new state and try again",
        field="version", details={"expected": expected, "current": actual}))


def _flush_or_conflict(session: Session, expected: int) -> None:
    """Flush with the version check; a concurrent writer that got there first makes this
    one a `VersionConflict` (stale version or duplicate history row)."""
    try:
        flush_or_conflict(session)
    except Conflict:
        raise _conflict(expected, expected + 1) from None


def _context(db: Session | Connection, stored: cases_repo.StoredCase, actor: Actor,
             now: datetime, **kw: Any) -> Context:
    return Context(actor=actor, now=now, rules=stored.rules,
                   calendar=reference_repo.load_calendar(db),
                   references=reference_repo.load_references(db),
                   local_today=local_date(now), **kw)


def _read(conn: Connection, user_id: int, app_id: int, today: date) -> cases_repo.CaseRead:
    """The case and the acting user as `cases_repo.read_case` reads them (the case's
    audit chain head included)."""
    return cases_repo.read_case(conn, user_id, app_id, today,
                                audit.chain_of("application", app_id))


def actor_or_404(session: Session | None, user: scope_repo.Someone, case: scope_repo.Placed,
                 today: date | None = None, *, what: str = "application") -> Actor:
    """The actor `user` is on `case` (in their own name, or as a deputy for whom they cover
    today); outside their scope the case is "not found" (`what`), never said to exist.
    `session` None: the caller knows `user` covers for nobody today, so no deputies are
    looked up (nor a session opened)."""
    actor = (scope_repo.own_actor(user, case) if session is None else
             scope_repo.actor_for_case(session, user, case, today or local_date(utcnow())))
    if actor is None:
        raise scope_repo.not_found(what)
    return actor


def case_for(session: Session, user: UserRow, app_id: int, permission: str | None,
             today: date | None = None, *, what: str = "application", deputies: bool = True
             ) -> tuple[ApplicationRow, Actor]:
    """A case `user` may see, and the actor they are on it: `permission` checked first
    (`Forbidden`; None: the scope alone decides), then the case read and its scope checked
    (`actor_or_404`; `deputies=False` asks for the user's own scope only)."""
    if permission is not None:
        permissions.require(user, permission)
    row = cases_repo.get_application(session, app_id)
    return row, actor_or_404(session if deputies else None, user, row, today, what=what)


def _who(user: UserRow, actor: Actor) -> audit.Who:
    """The audit log's actor: who acted, in which role, and for whom (a deputy)."""
    return audit.Who(user.id, user.username, actor.role.value, actor.on_behalf_of_id)


def load(uow: UnitOfWork, user_id: int, app_id: int, now: datetime | None = None) -> Loaded:
    """Read one application the user may see, with the triggers they may fire now."""
    now = now or utcnow()
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row, actor = case_for(s, user, app_id, "case.view", local_date(now))
        stored = _read(s.connection(), user_id, app_id, local_date(now)).stored
        assert stored is not None  # `get_application` found it
        case = stored.case
        cases_repo.read_products(s.connection(), case)
        ctx = _context(s, stored, actor, now, quota_used=cases_repo.quota_used(
            s, stored.id, stored.round_id, stored.province_id, case.programme),
                       base_claimed_by=register_repo.claimed_by(s, row.id, row.existing_base_id))
        triggers, refused = machine.options(case, ctx)
        asks = {t: found for t in triggers if (found := machine.asks(case, ctx, t))}
        return Loaded(row, case, actor, ctx.rules, triggers, refused, asks)


def eligibility_of(uow: UnitOfWork, user_id: int, app_id: int) -> list[eligibility.Verdict]:
    """Per-criterion verdicts with their figures (002 §六)."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        permissions.require(user, "case.view")
        today = local_date(utcnow())
        stored = _read(s.connection(), user_id, app_id, today).stored
        if stored is None:
            raise scope_repo.not_found()
        actor_or_404(s, user, stored, today)
        case = stored.case
        return eligibility.evaluate(case.programme.criteria, case.kind, case.region,
                                    case.values, case.attestations, stored.rules,
                                    reference_repo.load_references(s), authorities=case.locality_codes)


def history_of(uow: UnitOfWork, user_id: int, app_id: int) -> list[HistoryRow]:
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        case_for(s, user, app_id, "case.view")
        return cases_repo.history(s, app_id)


# --- drafts -----------------------------------------------------------------------------

def _validated(s: Session, data: dict[str, Any], kind: str | None, rnd: RoundRow,
               authority_id: int, row: ApplicationRow | None = None
               ) -> tuple[dict[str, Any], list[dict[str, Any]] | None, dict[str, Any]]:
    """The form's values and rows (as the round's programme defines its form), and
    (re-certification) the base it names, each checked — one round of validation: every
    error found, format, choice and cross-field alike, in one `ValidationFailed`. Returns
    (form values, rows, the case's own columns to change: the base it names)."""
    rules = rounds_repo.rules_of(rnd)
    the_form = rounds_repo.programme_of_round(rnd).form
    values, errors = the_form.clean(data)
    products = None
    if "products" in data:
        products, perr = the_form.clean_rows(data["products"])
        errors += perr
    if kind is not None and kind not in the_form.kind_keys:
        listed = "、".join(k.zh for k in the_form.kinds)
        errors.append(refuse("invalid_choice", f"申报类型应为{listed}",
                             "kind must be one of " + ", ".join(the_form.kind_keys),
                             field="kind", details={"value": str(kind)[:50]}))
    if not errors:  # figures across fields, as they will stand once saved
        current = cases_repo.values_of(row) if row is not None else {}
        rows_now = products if products is not None else (
            [{"name": p.name, "exports_10k_usd": p.exports_10k_usd} for p in row.products]
            if row is not None else [])
        errors += the_form.cross_checks({**current, **values}, rows_now)
        errors += _who_applies(s, the_form, kind, {**current, **values}, authority_id)
    field_value = data.get("industry_field")
    if field_value not in (None, "") and field_value not in rules.new_base_fields:
        errors.append(refuse("invalid_choice", "产业领域不在本轮范围内",
                             "industry field is not one of this round's fields",
                             field="industry_field", details={"value": str(field_value)[:50]}))
    names_base = kind is not None and the_form.kind_is(kind, "names_base")
    base, base_errors = _named_base(s, data, names_base, authority_id, row)
    errors += base_errors
    if errors:
        raise ValidationFailed(*errors)
    return values, products, base


def _who_applies(s: Session, the_form: FormDef, kind: str | None, values: dict[str, Any],
                 authority_id: int) -> list[Refusal]:
    """The form's checks on who applies, as the values will stand once saved: a cluster
    only in the central and western regions (002 §六), drafted by the bureau of a city
    where one of its leading enterprises is, or by the province (002 §六(三))."""
    authority = s.get(AuthorityRow, authority_id)
    if authority is None or kind is None:
        return []
    places = {code: (a.name_zh, a.name_en) for code, a in authorities_repo.named_by_codes(
        s, the_form.cities_named(values)).items()}  # a city picked is said by its name
    return (the_form.region_checks(kind, values, authority.province.region)
            + the_form.drafter_checks(kind, values, cases_repo.drafter_of(authority), places))


def _named_base(s: Session, data: dict[str, Any], names_base: bool, authority_id: int,
                row: ApplicationRow | None) -> tuple[dict[str, Any], list[Refusal]]:
    """The register entry a re-certification names and its type (002 §五(一), §六(一)):
    a national base of the applicant's own authority, not revoked, of the type the form
    says (taken from the register when the form leaves it blank). A draft may name none
    yet (`submit` requires it); a kind whose definition does not say `names_base` (a new
    base) names none."""
    if not names_base:
        return ({"existing_base_id": None}
                if row is None or row.existing_base_id is not None else {}), []
    raw_type = data.get("existing_base_type") if "existing_base_type" in data else (
        row.existing_base_type if row is not None else None)
    declared = str(raw_type).strip() if raw_type not in (None, "") else None
    if declared is not None and declared not in EXISTING_BASE_TYPES:
        return {}, [refuse("invalid_choice", "原基地类型应为高新技术产品、医药或软件出口基地",
                           "the existing base's type must be hightech, pharmaceutical or "
                           "software", field="existing_base_type",
                           details={"value": declared[:50]})]
    raw_id = data.get("existing_base_id") if "existing_base_id" in data else (
        row.existing_base_id if row is not None else None)
    if raw_id in (None, ""):
        return {"existing_base_id": None, "existing_base_type": declared}, []
    base_id = int(raw_id) if isinstance(raw_id, int) or str(raw_id).strip().isdigit() else None
    base = register_repo.existing_base(s, base_id) if base_id and base_id < 2**31 else None
    if base is None:
        return {}, [refuse("unknown_base", "出口基地名录中没有该基地",
                           "there is no such base in the register of bases",
                           field="existing_base_id", details={"value": str(raw_id)[:50]})]
    authority = s.get(AuthorityRow, authority_id)
    refusal = register.named_base_refusal(base, authority.code if authority else "", declared)
    if refusal is not None:
        return {}, [refusal]
    return {"existing_base_id": base.id, "existing_base_type": declared or base.base_type}, []


def _open_round(session: Session, year: int | None, today: date, authority: AuthorityRow,
                code: str | None = None) -> RoundRow:
    """The round a new draft goes into: that year's of the programme named (notice 002's
    unless named), or the newest open one the authority may apply in. Applications are
    drafted only in an open round (issue 14): not in a planned one, not in a closed one —
    and only by authorities the programme is open to (a province's own: its cities)."""
    if year is None:
        row = next((r for r in rounds_repo.open_rounds(session, today, authority)
                    if code is None or r.programme == code), None)
    else:
        row = rounds_repo.round_by_year(session, int(year), code or DEFAULT_CODE)
    if row is not None and not rounds_repo.programme_of_round(row).open_to(
            authority.code, authority.parent.code if authority.parent else None):
        prog = rounds_repo.programme_of_round(row)
        raise Forbidden(refuse("programme_not_open_to_you", f"{prog.name_zh}不接受本单位申报",
                               f"{prog.name_en} does not take applications from your authority",
                               field="programme", details={"programme": prog.code}))
    if row is None:
        raise ValidationFailed(refuse("no_open_round", "没有开放申报的年度",
                                      "no application round is open", field="round_year"))
    status = rounds_repo.status_of(row, today)
    if status is RoundStatus.CLOSED:
        raise ValidationFailed(refuse("round_closed", f"{row.year}年度申报已结束，不再接受新的申报书",
                                      f"the {row.year} round has closed: it takes no new "
                                      "applications", field="round_year"))
    if status is RoundStatus.PLANNED:
        raise ValidationFailed(refuse("round_not_open", f"{row.year}年度申报尚未开始",
                                      f"the {row.year} round has not opened yet",
                                      field="round_year"))
    return row


def create_draft(uow: UnitOfWork, user_id: int, data: dict[str, Any],
                 now: datetime | None = None) -> int:
    """An applicant starts a 申报书; returns the new application's id."""
    now = now or utcnow()
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        if user.authority is None or not permissions.allowed(user, "case.create"):
            permissions.forbid("case.create")  # an applicant of no authority drafts for none
        if not user.authority.is_active:  # its cases stay; it starts no new one
            raise Forbidden(refuse("authority_inactive",
                                   f"{user.authority.name_zh}已停用，不能新建申报书",
                                   f"{user.authority.name_en or user.authority.name_zh} is "
                                   "deactivated: it starts no new application",
                                   field="authority", details={"authority": user.authority.code}))
        rnd = _open_round(s, data.get("round_year"), local_date(now), user.authority,
                          data.get("programme") or None)
        kind = data.get("kind") or rounds_repo.programme_of_round(rnd).form.kinds[0].key
        values, products, base = _validated(s, data, kind, rnd, user.authority.id)
        row = ApplicationRow(round_id=rnd.id, authority_id=user.authority_id, owner_id=user.id,
                             kind=kind, industry_field=data.get("industry_field") or None,
                             state=PROGRAMME.initial, version=1, created_at=now,
                             updated_at=now, state_changed_at=now,
                             due_on=effects.due_on(PROGRAMME.state(PROGRAMME.initial),
                                                   rounds_repo.rules_of(rnd), None, None),
                             next_reminder_on=local_date(now), **base)
        row.round = rnd
        cases_repo.write_values(row, values)
        row.products = [ProductRow(position=i, **p) for i, p in enumerate(products or [])]
        s.add(row)
        s.flush()
        audit.append(s, "draft_created", who=audit.Who.of(user), object_type="application",
                     object_id=row.id, details={"kind": kind, "round": rnd.year})
        uow.record("application_created", application_id=row.id, user_id=user.id)
        uow.commit()
        return row.id


def update_draft(uow: UnitOfWork, user_id: int, app_id: int, data: dict[str, Any],
                 version: int, now: datetime | None = None) -> int:
    """Save changes to a draft (only drafts are editable); returns the new version."""
    now = now or utcnow()
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row, actor = case_for(s, user, app_id, "case.view", local_date(now))
        permissions.require(actor, "case.edit_draft")
        if not rounds_repo.programme_of_round(row.round).state(row.state).editable:
            raise GuardFailed(refuse("not_a_draft", "只有草稿可以修改",
                                     "only drafts can be edited", guard="editable"))
        if row.version != version:
            raise _conflict(version, row.version)
        kind = data.get("kind", row.kind)
        values, products, base = _validated(s, data, kind, row.round, row.authority_id, row)
        before = cases_repo.values_of(row)
        changed = sorted([k for k, v in values.items() if before.get(k) != v]
                         + [k for k, v in base.items() if getattr(row, k) != v])
        cases_repo.write_values(row, values)
        for k, v in base.items():
            setattr(row, k, v)
        if "industry_field" in data:
            row.industry_field = data["industry_field"] or None
        row.kind = kind
        if products is not None:
            row.products.clear()
            row.products.extend(ProductRow(position=i, **p) for i, p in enumerate(products))
        row.updated_at = now
        _flush_or_conflict(s, version)
        # names of the changed fields only: the figures stay in the case, not in the log
        audit.append(s, "draft_updated", who=_who(user, actor), object_type="application",
                     object_id=row.id, details={"version": row.version, "fields": changed,
                                                "products": products is not None})
        uow.commit()
        return row.version


def set_attestations(uow: UnitOfWork, user_id: int, app_id: int,
                     values: dict[str, bool | None], version: int) -> int:
    """A reviewer confirms (or not) the criteria that only a person can judge."""
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row, actor = case_for(s, user, app_id, "case.view")
        permissions.require(actor, "case.attest")
        allowed = rounds_repo.programme_of_round(row.round).attestations(row.kind)
        bad = [k for k in values if k not in allowed]
        if bad:
            raise ValidationFailed(refuse("unknown_criterion", "未知的评估条件",
                                          f"unknown criterion: {bad[0]}", field=bad[0]))
        if row.version != version:
            raise _conflict(version, row.version)
        row.attestations = {**(row.attestations or {}), **values}
        _flush_or_conflict(s, version)
        audit.append(s, "attestations_confirmed", who=_who(user, actor),
                     object_type="application", object_id=row.id,
                     details={"version": row.version, "values": values})
        uow.commit()
        return row.version


def set_review_fields(uow: UnitOfWork, user_id: int, app_id: int, data: dict[str, Any],
                      version: int) -> int:
    """A reviewer states the form's fields their role fills in (`filled_by`; 002 §六(二)(2):
    the province states the applicant's rank in its locality and the catalogue used) while
    the case waits on that role; returns the new version."""
    with uow:
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        row, actor = case_for(s, user, app_id, "case.view")
        prog = rounds_repo.programme_of_round(row.round)
        the_form = prog.form
        mine = [f for f in the_form.filled_by(actor.role.value) if f.applies_to(row.kind)]
        if not mine or actor.role is Role.APPLICANT:  # the applicant edits its draft
            raise Forbidden(refuse("nothing_to_state", "本申报没有由您填写的项目",
                                   "this application has no fields for your role to state"))
        if actor.role not in prog.state(row.state).waiting:
            raise GuardFailed(refuse("not_your_turn", "只能在申报等待您审核时填写",
                                     "these fields are stated while the case waits on you",
                                     guard="review_fields"))
        if row.version != version:
            raise _conflict(version, row.version)
        names = {f.name for f in mine}
        values, errors = the_form.clean({k: v for k, v in data.items() if k in names},
                                        role=actor.role.value)
        unknown = [k for k in data if k not in names]
        errors += [refuse("unknown_field", "未知的填写项目", f"unknown field: {k}", field=k)
                   for k in unknown[:1]]
        if not errors:
            errors += the_form.cross_checks({**cases_repo.values_of(row), **values},
                                            [{"name": p.name, "exports_10k_usd":
                                              p.exports_10k_usd} for p in row.products])
        if errors:
            raise ValidationFailed(*errors)
        before = cases_repo.values_of(row)
        cases_repo.write_values(row, values)
        row.updated_at = utcnow()
        _flush_or_conflict(s, version)
        audit.append(s, "review_fields_stated", who=_who(user, actor), object_type="application",
                     object_id=row.id, details={
                         "version": row.version,
                         "fields": sorted(k for k, v in values.items() if before.get(k) != v)})
        uow.commit()
        return row.version


# --- transitions ------------------------------------------------------------------------

Also = Callable[[Session, cases_repo.StoredCase], None]  # more to write in fire's transaction


@dataclass
class Fired:
    application_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    history_id: int


@observe.observed("transition", subject="trigger")
def fire(uow: UnitOfWork, user_id: int, app_id: int, trigger: str, version: int | None,
         reason: str | None = None, deadline: date | None = None,
         now: datetime | None = None, data: dict[str, Any] | None = None,
         also: Also | None = None,
         document: str | None = None, override_reason: str | None = None,
         late_reason: str | None = None) -> Fired:
    """Fire `trigger` on an application: one transaction that moves the case and appends
    its history row. Raises `VersionConflict` if `version` is not the current one.
    `also` runs inside the same transaction (e.g. marking an objection upheld).
    When the base's status in the register changes (approval enters it), the register
    changes in that transaction too, with `document` (the decision's 文号) if given.

    A refused attempt (a guard, the state, a stale version, a case out of the user's
    scope, a bad reason) changes nothing and is audited as `case_action_refused`
    (GB/T 22239 8.1.4.3: every event with its result, failures too). It goes on the
    system chain, not the case's: a refusal appended to a case's chain would turn
    someone else's transition in flight on that case into a conflict. A `Forbidden`
    (a role that never acts on cases) surfaces as a 403, which the web layer audits as
    `access_denied`."""
    try:
        return _fire_settled(uow, user_id, app_id, trigger, version, reason, deadline, now, data, also,
                     document, _text(override_reason, "override_reason"),
                     _text(late_reason, "late_reason"))
    except Forbidden:
        raise
    except DomainError as err:
        _audit_refused(uow, user_id, app_id, trigger, version, err)
        raise


def _text(value: str | None, name: str) -> str | None:
    """A reason typed by a reviewer: stripped, None when blank, at most 2,000 characters."""
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > 2000:
        raise ValidationFailed(refuse("too_long", "理由不得超过 2000 字",
                                      "the reason is limited to 2,000 characters", field=name))
    return text or None


def _audit_refused(uow: UnitOfWork, user_id: int, app_id: int, trigger: str,
                   version: int | None, err: DomainError) -> None:
    try:
        log = uow.another()
        with log:
            user = log.session.get(UserRow, user_id)
            audit.append(log.session, "case_action_refused", who=audit.Who.of(user)
                         if user is not None else audit.Who(user_id, None),
                         result="refused", object_type="application", object_id=app_id,
                         chain=audit_repo.SYSTEM_CHAIN,
                         details={"trigger": str(trigger)[:40], "version": version,
                                  "error": err.code,
                                  "refusals": [r.code for r in err.refusals][:10]})
            log.commit()
    except Exception:  # noqa: BLE001 - the user gets the refusal even if the log is down
        _log.exception("could not audit a refused %s on application %s", trigger, app_id)


class _CommitLost(Exception):
    """The connection was lost while the transition's COMMIT was under way: whether it
    stood is read afresh (`_fire_settled`)."""

    def __init__(self, fired: Fired, actor_id: int, at: datetime) -> None:
        super().__init__(fired.application_id)
        self.fired, self.actor_id, self.at = fired, actor_id, at


def _fire_settled(uow: UnitOfWork, user_id: int, app_id: int, trigger: str, *args: Any
                  ) -> Fired:
    """`_fire`, answered even when the connection is lost during its COMMIT (a killed
    server process, a restart): on a new connection the history row at the new version
    says whether it stood — this transition's (its actor, trigger and time: done) or
    another's (a version conflict). If there is none, nothing of it stood and it runs
    once more; being conditional on the case's version, it still moves the case at most
    once."""
    try:
        return _fire(uow, user_id, app_id, trigger, *args)
    except _CommitLost as lost:
        fired = lost.fired
        with uow.another().read() as check:
            there = cases_repo.transition_at(check.session, app_id, fired.version)
        if there is None:
            return _fire(uow, user_id, app_id, trigger, *args)
        if (there.actor_id, there.trigger, there.at) == (lost.actor_id, trigger, lost.at):
            return replace(fired, history_id=there.id)
        raise _conflict(fired.version - 1, fired.version) from None


class _WantsTransaction(Exception):
    """The case's own definition asks this transition for a transaction (a lock, a
    register change): it runs again in one (`_fire`)."""


def _transactional(trigger: str, source: str, programme: Programme) -> bool:
    """Does `trigger` from `source` need a transaction around it: its definition says
    `locks = "province"` (the quota, 002 §六(三)) or the register of bases changes with it?"""
    spec = programme.by_trigger[trigger]
    return spec.locks is not None or register_change(source, spec.dest, programme) is not None


@cache
def _may_run_as_statements(trigger: str) -> bool:
    """Whether `trigger` may need no transaction: from some state of some programme file
    it neither locks nor changes the register. It is then tried as self-committing
    statements; a case whose own definition asks for a transaction from its state runs
    again in one (one read more)."""
    return any(not _transactional(trigger, s, p) for p in known_programmes()
               if trigger in p.by_trigger for s in p.by_trigger[trigger].sources)


def _fire(uow: UnitOfWork, user_id: int, app_id: int, trigger: str, version: int | None,
          reason: str | None, deadline: date | None, now: datetime | None,
          data: dict[str, Any] | None, also: Also | None, document: str | None = None,
          override_reason: str | None = None, late_reason: str | None = None) -> Fired:
    """`fire` on `uow`: read the case, let the domain decide, write the move conditional
    on the version read (no row lock: of concurrent triggers exactly one moves the case,
    every other gets a version conflict). A transition whose definition says
    `locks = "province"` counts the province's quota under its lock first; it, one that
    changes the register and one with `also` run in one transaction. Any other is a read
    and one atomic write, each committing by itself (`uow.statements`: on PostgreSQL no
    BEGIN and no COMMIT round trip)."""
    args = (uow, user_id, app_id, trigger, version, reason, deadline, now, data, also,
            document, override_reason, late_reason)
    if also is None and _may_run_as_statements(trigger):
        try:
            return _fire_on(*args, statements=True)
        except _WantsTransaction:
            pass
    return _fire_on(*args, statements=False)


def _fire_on(uow: UnitOfWork, user_id: int, app_id: int, trigger: str, version: int | None,
             reason: str | None, deadline: date | None, now: datetime | None,
             data: dict[str, Any] | None, also: Also | None, document: str | None,
             override_reason: str | None, late_reason: str | None, *,
             statements: bool) -> Fired:
    """`_fire` in one transaction of `uow`, or (`statements`) as self-committing
    statements; `_WantsTransaction` before anything is written if the case's definition
    asks for a transaction after all."""
    now = now or utcnow()
    reason = _text(reason, "reason")
    asked = {"reason": reason, "rectification_deadline": deadline,
             "override_reason": override_reason, "late_reason": late_reason}
    document = _document(trigger, document)
    with uow.statements() if statements else uow:
        user, stored, actor, audit_head = _acting_on(uow, user_id, app_id, local_date(now))
        case = stored.case
        expected = case.version if version is None else version
        if case.version != expected:
            raise _conflict(expected, case.version)
        spec = machine.spec_for(trigger, case.state, case.programme)  # unknown / wrong state
        if statements and _transactional(trigger, case.state, case.programme):
            raise _WantsTransaction()
        ctx = _fire_context(uow, stored, spec, actor, now, asked)
        outcome, changes, history = _decide(case, ctx, trigger, deadline, document, data)
        if also is not None:
            also(uow.session, stored)
        fired = Fired(stored.id, trigger, outcome.source, outcome.dest, expected + 1, 0)
        fired.history_id = _written(uow, user, actor, case, fired, changes, history,
                                    audit_head, now, statements=statements)
        status = register_change(outcome.source, outcome.dest, case.programme)
        if status is not None:  # the register of bases changes with the case, in its transaction
            _enter_in_register(uow.session, stored, trigger, status.value, local_date(now),
                               now, fired.history_id, actor, document, reason,
                               case.programme.designating)
        uow.record("case_transitioned", application_id=stored.id, trigger=trigger,
                   from_state=outcome.source, to_state=outcome.dest,
                   actor_id=actor.user_id, version=fired.version)
        _commit(uow, fired, actor.user_id, now)
        return fired


def _commit(uow: UnitOfWork, fired: Fired, actor_id: int, now: datetime) -> None:
    """Commit `fired`; a COMMIT whose connection is lost is `_CommitLost` (did it stand?
    `_fire_settled` reads it afresh)."""
    try:
        uow.commit()
    except Exception as exc:
        if lost_connection(exc):
            raise _CommitLost(fired, actor_id, now) from exc
        raise


def _acting_on(uow: UnitOfWork, user_id: int, app_id: int, today: date
               ) -> tuple[cases_repo.Person, cases_repo.StoredCase, Actor, str | None]:
    """The active user, the case they may act on, as whom, and the head of the case's
    audit chain — or `NotFound` (`Forbidden` for a role that never acts on cases). The
    deputies (ORM rows, a session) are looked up only for a user who deputises today."""
    found = _read(uow.connection, user_id, app_id, today)
    user, stored = found.user, found.stored
    if user is None or not user.is_active:
        raise scope_repo.not_found("user")
    permissions.require(user, "case.fire")
    if stored is None:
        raise scope_repo.not_found()
    actor = actor_or_404(uow.session if found.deputising else None, user, stored, today)
    return user, stored, actor, found.audit_head


def _fire_context(uow: UnitOfWork, stored: cases_repo.StoredCase, spec: TransitionDef,
                  actor: Actor, now: datetime, asked: dict[str, Any]) -> Context:
    """What the domain decides a transition with: the product rows only for a trigger
    whose guards check the form, and what a transition whose definition says
    `locks = "province"` counts under the province's lock (002 §六(三): its quota of new
    bases, and whether another case claims the base a re-certification names)."""
    if "complete_form" in spec.guards:
        cases_repo.read_products(uow.connection, stored.case)
    counted: dict[str, Any] = {}
    if spec.locks == "province":
        s = uow.session
        cases_repo.lock_authority(s, stored.province_id)
        counted = {"quota_used": cases_repo.quota_used(s, stored.id, stored.round_id,
                                                       stored.province_id,
                                                       stored.case.programme),
                   "base_claimed_by": register_repo.claimed_by(s, stored.id,
                                                               stored.existing_base_id)}
    return _context(uow.connection, stored, actor, now, **asked, **counted)


def _decide(case: Case, ctx: Context, trigger: str, deadline: date | None,
            document: str | None, data: dict[str, Any] | None
            ) -> tuple[machine.Outcome, dict[str, Any], dict[str, Any]]:
    """Fire `trigger` in the domain: its outcome, the case's changed columns and its
    history row (with the eligibility snapshot and the effects' notes)."""
    prog, now = case.programme, ctx.now
    verdicts = eligibility.evaluate(prog.criteria, case.kind, case.region, case.values,
                                    case.attestations, ctx.rules, ctx.references,
                                    authorities=case.locality_codes)
    notes = effects.history_notes(case, ctx, prog.by_trigger[trigger])
    outcome = machine.fire(case, trigger, ctx)
    changes: dict[str, Any] = {"state": outcome.dest, "state_changed_at": now,
                               "updated_at": now,
                               **effects.apply(case, ctx, prog.by_trigger[trigger])}
    notice_ends_on = changes.get("notice_ends_on", case.notice_ends_on)
    changes["due_on"] = effects.due_on(prog.state(outcome.dest), ctx.rules, notice_ends_on,
                                       changes.get("rectification_deadline",
                                                   case.rectification_deadline))
    changes["next_reminder_on"] = ctx.today  # the reminder scan re-plans it
    actor = ctx.actor
    history = dict(
        application_id=case.id, version=case.version + 1, trigger=trigger,
        from_state=outcome.source, to_state=outcome.dest,
        actor_id=actor.user_id, actor_role=actor.role.value, actor_name=actor.name,
        on_behalf_of_id=actor.on_behalf_of_id, on_behalf_of_name=actor.on_behalf_of_name,
        reason=ctx.reason, at=now, eligibility=[v.as_dict() for v in verdicts],
        data={"deadline": deadline.isoformat() if deadline else None,
              "notice_ends_on": notice_ends_on.isoformat() if notice_ends_on else None,
              **({"document": document} if document else {}), **notes, **(data or {})},
    )
    return outcome, changes, history


def _written(uow: UnitOfWork, user: cases_repo.Person, actor: Actor, case: Case,
             fired: Fired, changes: dict[str, Any], history: dict[str, Any],
             audit_head: str | None, now: datetime, *, statements: bool) -> int:
    """Write the move, its history row and its audit record on the unit of work's
    connection (`VersionConflict` if another writer moved the case first); returns the
    history row's id. A self-committing write (`statements`) whose connection is lost is
    `_CommitLost`: whether it stood is read afresh (`_fire_settled`)."""
    if statements:
        uow.may_write()
    record = audit.record(
        "case_action", prev=audit_head or audit.GENESIS,
        who=audit.Who(user.id, user.username, actor.role.value, actor.on_behalf_of_id),
        object_type="application", object_id=case.id,
        details={"trigger": fired.trigger, "from": fired.from_state,
                 "to": fired.to_state, "version": fired.version})
    try:
        return cases_repo.write_transition(uow.connection, history["application_id"],
                                           case.version, changes, history, record)
    except Conflict:
        raise _conflict(case.version, case.version + 1) from None
    except Exception as exc:
        if statements and lost_connection(exc):
            raise _CommitLost(fired, actor.user_id, now) from exc
        raise


def _document(trigger: str, document: str | None) -> str | None:
    """The decision's document number (文号), for the decisions the register records."""
    text = document.strip() if isinstance(document, str) else ""
    if not text:
        return None
    if trigger not in DECISIONS:
        raise ValidationFailed(refuse("document_not_applicable",
                                      "只有核准、复评保留、限期整改和撤销可以登记文号",
                                      "a document number goes only with approve, keep, "
                                      "order rectification and revoke", field="document"))
    if len(text) > 100:
        raise ValidationFailed(refuse("too_long", "文号不得超过 100 个字符",
                                      "the document number is limited to 100 characters",
                                      field="document"))
    return text


def _enter_in_register(s: Session, app: cases_repo.StoredCase, trigger: str, status: str,
                       today: date, now: datetime, history_id: int, actor: Actor,
                       document: str | None, reason: str | None,
                       designating: frozenset[str]) -> None:
    """The base's entry in the register after `trigger`: approval enters it (an export
    innovation base: 002 §六(三) 核准); rectification, keep and revocation change its
    status. Each change is an event with its date, decision and document. `designating`:
    the programme's triggers that make a case a base (`Programme.designating`)."""
    designates = trigger in designating
    entry = register_repo.entry_of_case(s, app.id)
    if entry is None:  # approved now — or before the register existed and not entered
        approved = None if designates else register_repo.approved_at(s, app.id, designating)
        designated_on = local_date(approved) if approved is not None else today
        # 授牌: the approval joins the round's designation decision of the day (numbered)
        decision = register_repo.decision_for(s, app.round_id, designated_on, document, now) \
            if designates else None
        entry = register_repo.designated_entry(
            authority_id=app.authority_id,
            name=app.case.values.get("applicant_name") or f"#{app.id}",
            recert=app.case.programme.form.kind_is(app.case.kind, "names_base"),
            industry_field=app.industry_field,
            existing_base_id=app.existing_base_id, application_id=app.id,
            designated_on=designated_on,
            document=(document or decision.document) if decision is not None else None,
            now=now)
        entry.decision_id = decision.id if decision is not None else None
        document = entry.designation_document if designates else document
        s.add(entry)
    entry.status, entry.status_since, entry.updated_at = status, today, now
    s.flush()
    register_repo.add_event(s, entry, decision=trigger, on=today, now=now, document=document,
                            reason=reason, application_id=app.id, history_id=history_id,
                            recorded_by_id=actor.user_id)


# --- listing ----------------------------------------------------------------------------

@dataclass
class Page:
    items: list[ApplicationRow]
    total: int
    next_cursor: str | None
    prev_cursor: str | None = None  # None: this is the first page


def list_applications(uow: UnitOfWork, user_id: int, *, state: str | None = None,
                      region: str | None = None, authority: str | None = None,
                      round_year: int | None = None, kind: str | None = None,
                      q: str | None = None, limit: int = 50, cursor: str | None = None,
                      waiting_on_me: bool = False, now: datetime | None = None,
                      count: bool = True, programme: str | None = None,
                      mine: bool = False, sort: str = "due",
                      descending: bool = False, before: str | None = None) -> Page:
    """The applications a user may see, filtered, ordered by `sort` (due date, applicant,
    state or submission date; either way) then id (keyset); `q` searches the applicant,
    the city or province, the case number and the industry field; `mine`: only those
    assigned to the user (claimed, issue 17) that still wait on them. Pages go both ways:
    `cursor` is a page's `next_cursor` (the rows after it), `before` a page's
    `prev_cursor` (the rows just before it)."""
    now = now or utcnow()
    sort = sort if sort in inbox_repo.INBOX_SORTS else "due"
    order = state_keys()
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        permissions.require(user, "case.view")
        principals = scope_repo.principals_of(s, user.id, local_date(now))
        after = _parse_cursor(sort, cursor, "cursor")
        back = None if after else _parse_cursor(sort, before, "before")
        scope = scope_repo.scope_filter(user, principals)
        if mine:
            scope = events_repo.assigned_to(scope, user.id, {
                role.value: sorted(set().union(*(p.waiting_for([role])
                                                 for p in known_programmes())))
                for role in Role})

        def fetch(n: int, *, after: Any = None, before: Any = None,
                  count: bool = False) -> tuple[list[ApplicationRow], int]:
            return inbox_repo.page_applications(
                s, scope, state=state,
                states=waiting_states(user, principals) if waiting_on_me else None,
                settled_rounds=rounds_repo.closed_round_ids(s, local_date(now)) if waiting_on_me
                else (),
                region=region,
                authority=authority, round_year=round_year, kind=kind, q=q, limit=n,
                after=after, before=before, count=count, programme_code=programme,
                sort=sort, descending=descending, state_order=order,
                industry_codes=_industries_named(q) if q else ())

        return _page(fetch, max(1, min(limit, 200)), after, back, count, sort, order)


Fetch = Callable[..., tuple[list[ApplicationRow], int]]


def _page(fetch: Fetch, limit: int, after: tuple[Any, int] | None,
          back: tuple[Any, int] | None, count: bool, sort: str, order: list[str]) -> Page:
    """One page of `limit` rows from `fetch`: after the keyset `after` (or from the start),
    or the rows just before `back`; with the cursors of the pages next to it."""
    if back is not None:  # the page before: its first row is `limit` rows back
        rows, total = fetch(limit + 1, before=back, count=count)
        more_before = len(rows) > limit
        rows = rows[-limit:]
        more_after = True  # the row `before` points at, at least
    else:
        rows, total = fetch(limit + 1, after=after, count=count)
        more_after = len(rows) > limit
        rows = rows[:limit]
        more_before = after is not None and bool(rows) and bool(
            fetch(1, before=_key_of(rows[0], sort, order))[0])
    nxt = _cursor_of(rows[-1], sort, order) if rows and more_after else None
    prev = _cursor_of(rows[0], sort, order) if rows and more_before else None
    return Page(rows, total, nxt, prev)


def _key_of(row: ApplicationRow, sort: str, order: list[str]) -> tuple[Any, int]:
    return inbox_repo.inbox_sort_value(row, sort, order), row.id


def _cursor_of(row: ApplicationRow, sort: str, order: list[str]) -> str:
    """A keyset cursor: the row's sort value and its id (`value_id`)."""
    value = inbox_repo.inbox_sort_value(row, sort, order)
    return f"{value.isoformat() if isinstance(value, date) else value}_{row.id}"


def _parse_cursor(sort: str, raw: str | None, field: str) -> tuple[Any, int] | None:
    """A cursor's (sort value, id), None when there is none; refused when malformed."""
    if not raw:
        return None
    try:
        value, cid = raw.rsplit("_", 1)
        return _cursor_value(sort, value), int(cid)
    except ValueError:
        raise ValidationFailed(refuse("invalid_cursor", "分页参数无效",
                                      "the cursor is invalid", field=field)) from None


def state_keys(programmes: Iterable[Programme] | None = None) -> list[str]:
    """The states of `programmes` (every programme's unless given) in their order, notice
    002's first, each key once (the inbox's state sort; its filter, of the programmes the
    user works in)."""
    keys: list[str] = []
    chosen = known_programmes() if programmes is None else list(programmes)
    for p in sorted(chosen, key=lambda p: p.code != DEFAULT_CODE):
        keys += [k for k in p.states if k not in keys]
    return keys


def _cursor_value(sort: str, raw: str) -> Any:
    """The sort key's value a cursor carries (ValueError when it is not one)."""
    if sort == "applicant":
        return raw
    if sort == "state":
        return int(raw)
    if sort == "submitted":
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError(raw)
        return moment
    return date.fromisoformat(raw)


def _industries_named(q: str) -> list[str]:
    """The industry fields (002 §五(二)) whose code or Chinese name contains `q`."""
    term = q.strip().lower()
    return [code for code, zh in FIELD_ZH.items() if term in zh or term in code]


def waiting_states(user: UserRow, principals: list[UserRow]) -> list[str]:
    """The states in which a case waits on this user's role (the states' `waiting` in the
    programme's definition)."""
    roles = [Role(u.role) for u in [user, *principals]]
    return sorted(set().union(*(p.waiting_for(roles) for p in known_programmes())))


def bulk_fire(uow: UnitOfWork, user_id: int, app_ids: list[int], trigger: str,
              reason: str | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Fire one trigger on many cases; each gets its own guard check, history row and
    transaction (each `fire` enters `uow` anew). Returns per case what succeeded and what
    was refused and why."""
    results = []
    for app_id in app_ids:
        try:
            fired = fire(uow, user_id, app_id, trigger, None, reason=reason, now=now)
            results.append({"id": app_id, "ok": True, "state": fired.to_state})
        except DomainError as err:
            results.append({"id": app_id, "ok": False, "code": err.code,
                            "errors": [r.as_dict() for r in err.refusals]})
    return results
