"""The reminder scan: due cases → outbox rows (+ in-app notifications), in one transaction
per batch; daily digests; the in-app notification list and the digest preference.

`scan(uow, at)` is what beat runs every REMINDER_SCAN_SECONDS and what
`flask reminders scan --at …` runs once. It reads only the cases whose
`next_reminder_on` has come (an index range), so its cost grows with what is due.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from workflow import reminders as rules_mod
from workflow.calendar import WorkCalendar
from workflow.errors import ValidationFailed, refuse
from workflow.programme import DEFAULT_CODE, Programme, known, reminder_kinds
from workflow.reminders import Audience, CaseFacts, Days, Due, ReminderRule
from workflow.rules import RoundRules, RoundStatus, round_status
from workflow.services.clock import CHINA, local_date, real_utcnow, utcnow
from workflow.services.language import fmt_date, translate
from workflow.storage import reference_repo, rounds_repo, users_repo
from workflow.storage import reminders_repo as rr
from workflow.storage.models import OutboxRow
from workflow.storage.uow import DbSession, UnitOfWork

BATCH = 500
DIGEST_HOUR = 8  # the daily digest goes out with the first scan from 08:00 Beijing time
LOCK_TTL = timedelta(minutes=5)


@dataclass
class ScanResult:
    """What one scan did (the benchmark and the CLI print this)."""

    day: date
    skipped: str | None = None  # "holiday" | "locked"
    cases: int = 0  # cases looked at
    due: int = 0  # reminders due (before de-duplication)
    written: int = 0  # outbox rows written (new)
    held: int = 0  # of which held for a daily digest
    digests: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "skipped": self.skipped, "cases": self.cases,
                "due": self.due, "written": self.written, "held": self.held,
                "digests": self.digests, "batches": self.batches}


# --- facts and recipients ------------------------------------------------------------------

@dataclass(frozen=True)
class RoundRun:
    """A round as the scan runs it: its rules, whether it has closed, its reminder table."""

    rules: RoundRules
    closed: bool
    programme: Programme
    table: tuple[ReminderRule, ...]


def _facts(s: DbSession, records: list[rr.CaseRecord], rounds: dict[int, RoundRun]
           ) -> dict[int, CaseFacts]:
    designated = [r.id for r in records if r.state in rounds[r.round_id].programme.designated]
    designating = {t for run in rounds.values() for t in run.programme.designating}
    approved = rr.approved_on(s, designated, designating) if designated else {}
    quarters = rr.quarterly_filed(s, designated) if designated else {}
    years = rr.annual_filed(s, designated) if designated else {}
    out = {}
    for r in records:
        at = approved.get(r.id)
        out[r.id] = CaseFacts(
            id=r.id, state=r.state, notice_ends_on=r.notice_ends_on,
            rectification_deadline=r.rectification_deadline,
            approved_on=local_date(at) if at else None,
            quarterly_filed=frozenset(quarters.get(r.id, ())),
            annual_filed=frozenset(years.get(r.id, ())))
    return out


def _programme_of(s: DbSession, round_id: int, rec: rr.RoundRecord) -> Programme:
    """The definition a round runs by: the one it opened with, or (planned) the file."""
    return rounds_repo.programme_of_record(s, round_id, rec.programme, rec.programme_hash)


def _rounds(s: DbSession, round_ids: set[int], day: date) -> dict[int, RoundRun]:
    """round id -> how the scan runs it on `day`: its reminder table is its programme's
    (or the round's own), and once it has closed only its bases' duties."""
    out = {}
    for i, rec in rr.round_params(s, round_ids).items():
        rules = RoundRules.from_json({**rec.params, "year": rec.year})
        closed = round_status(rec.opened_on, rec.closed_on, day) is RoundStatus.CLOSED
        prog = _programme_of(s, i, rec)
        out[i] = RoundRun(rules, closed, prog,
                          rules_mod.rules_of_round(prog.reminder_table, rules, closed))
    return out


def _recipients(audience: Audience, case: rr.CaseRecord, owners: dict[int, rr.Person],
                province: dict[int, list[rr.Person]], ministry: list[rr.Person]
                ) -> list[rr.Person]:
    """Who gets a reminder: the owner; the province's or ministry's reviewers (not the
    heads, unless there are only heads); or the heads (else every reviewer there). A
    city's case waits on its province's reviewers."""
    if audience is Audience.OWNER:
        owner = owners.get(case.owner_id)
        return [owner] if owner else []
    pool = province.get(case.province_id, []) if audience in (
        Audience.PROVINCE, Audience.PROVINCE_HEAD) else ministry
    heads = [p for p in pool if p.is_head]
    if audience in (Audience.PROVINCE_HEAD, Audience.MINISTRY_HEAD):
        return heads or pool
    return [p for p in pool if not p.is_head] or pool


# --- messages ------------------------------------------------------------------------------

DIGEST_ZH = "每日提醒汇总"  # the digest's outbox kind (English in messages.po)


def kind_labels(locale: str) -> dict[str, str]:
    """The outbox kinds reminders write, labelled in `locale`: every programme's reminder
    kinds (their definition's own words) and the daily digest."""
    labels = {k: r.en if locale == "en" else r.zh for k, r in reminder_kinds().items()}
    labels["digest"] = translate(DIGEST_ZH, locale)
    return labels


def case_link(base_url: str, app_id: int) -> str:
    return f"{base_url}/cases/{app_id}"  # web.views.case


def _one_period(period: str, locale: str) -> str:
    if "Q" in period:
        y, q = period.split("Q")
        return translate("%(year)s年第%(quarter)s季度", locale, year=y, quarter=q)
    return translate("%(year)s年度", locale, year=period)


def _period_text(item: rules_mod.Item, locale: str) -> str | None:
    """The period(s) a report reminder is about; several overdue ones listed in full."""
    periods = item.periods or ((item.period,) if item.period else ())
    if not periods:
        return None
    text = translate("、", locale).join(_one_period(p, locale) for p in periods)
    if len(periods) > 1:
        text += translate("（共 %(n)s 期）", locale, n=len(periods))
    return text


def _headline(due: Due, name: str, loc: str) -> str:
    what = due.rule.title(loc)
    if due.escalation:
        return translate("【督办】%(case)s：%(what)s，已逾期 %(late)s 个工作日", loc,
                         case=name, what=what, late=-due.days_left)
    if due.days_left == 0:
        return translate("【提醒】%(case)s：%(what)s，今天截止", loc, case=name, what=what)
    return translate("【提醒】%(case)s：%(what)s，还剩 %(left)s 个工作日", loc,
                     case=name, what=what, left=due.days_left)


def _details(due: Due, loc: str) -> list[str]:
    lines = [translate("事项：%(what)s", loc, what=due.rule.title(loc))]
    period = _period_text(due.item, loc)
    if period:
        lines.append(translate("报告期：%(period)s", loc, period=period))
    lines.append(translate("截止日期：%(deadline)s", loc, deadline=fmt_date(due.item.deadline, loc)))
    if due.days_left >= 0:
        lines.append(translate("剩余工作日：%(left)s", loc, left=due.days_left))
    else:
        lines.append(translate("已逾期工作日：%(late)s", loc, late=-due.days_left))
    action = due.rule.action(loc)
    if action:
        lines.append(action)
    return lines


def _most_urgent(dues: list[Due]) -> Due:
    """The one a combined mail leads with: the most overdue, else the nearest deadline."""
    return min(dues, key=lambda d: (d.days_left, d.item.deadline, d.rule.kind))


def render(due: Due | list[Due], case_name: str | None, app_id: int, person: rr.Person,
           base_url: str) -> tuple[str, str, str]:
    """(subject, body, link) of one reminder — or of one mail naming several obligations
    of the same case — in the recipient's language (Chinese first)."""
    dues = due if isinstance(due, list) else [due]
    loc = person.locale if person.locale in ("zh", "en") else "zh"
    name = case_name or translate("申报 #%(id)s", loc, id=app_id)
    link = case_link(base_url, app_id)
    lead = _most_urgent(dues)
    if len(dues) == 1:
        subject = _headline(lead, name, loc)
    elif lead.escalation:
        subject = translate("【督办】%(case)s：%(n)s 项事项待办，最多已逾期 %(late)s 个工作日",
                            loc, case=name, n=len(dues), late=-lead.days_left)
    else:
        subject = translate("【提醒】%(case)s：%(n)s 项事项待办，最近的还剩 %(left)s 个工作日",
                            loc, case=name, n=len(dues), left=lead.days_left)
    lines = [translate("%(name)s，您好：", loc, name=person.name), ""]
    if any(d.escalation for d in dues):
        lines.append(translate("以下事项已超过截止日期，请督促办理。", loc))
        lines.append("")
    lines.append(translate("申报单位：%(case)s", loc, case=name))
    ordered = sorted(dues, key=lambda d: (d.days_left, d.rule.kind))
    for i, d in enumerate(ordered, 1):
        if len(ordered) > 1:
            lines.append("")
            lines.append(f"{i}.")
        lines += _details(d, loc)
    lines += ["", translate("办理链接：%(link)s", loc, link=link), "",
              translate("本邮件由系统自动发送，请勿直接回复。", loc)]
    return subject[:300], "\n".join(lines), link


# --- the scan ------------------------------------------------------------------------------

def _scan_batch(s: DbSession, ids: list[int], day: date, days: Days, base_url: str,
                result: ScanResult) -> list[dict[str, Any]]:
    """Plan one batch of cases; returns the outbox rows to write (and moves their
    next_reminder_on on)."""
    records = rr.cases(s, ids)
    rounds = _rounds(s, {r.round_id for r in records}, day)
    facts = _facts(s, records, rounds)
    owners, province, ministry = rr.people_for(s, {r.owner_id for r in records},
                                               {r.province_id for r in records})
    rows: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    now = utcnow()
    for rec in records:
        run = rounds[rec.round_id]
        p = rules_mod.plan(facts[rec.id], run.table, run.rules, days, day,
                           since=rec.next_reminder_on)
        nxt = p.next_on
        if nxt is not None and nxt <= day:
            nxt = day + timedelta(days=1)  # always move on: a scan never loops on a case
        moves.append({"b_id": rec.id, "b_version": rec.version, "b_next": nxt})
        # one mail per case and recipient, however many obligations are due for them
        mine: dict[int, tuple[rr.Person, list[Due]]] = {}
        for due in p.due:
            for person in _recipients(due.audience, rec, owners, province, ministry):
                result.due += 1
                mine.setdefault(person.id, (person, []))[1].append(due)
        for person, dues in mine.values():
            rows.append(_outbox_row(rec, person, dues, base_url, now))
    rr.move_next_reminder(s, moves)
    return rows


def _outbox_row(rec: rr.CaseRecord, person: rr.Person, dues: list[Due], base_url: str,
                now: datetime) -> dict[str, Any]:
    subject, body, _link = render(dues, rec.name, rec.id, person, base_url)
    lead = _most_urgent(dues)
    key = rules_mod.dedupe_key(rec.id, person.id, lead)
    if len(dues) > 1:  # the same obligations on the same stage days make the same key
        others = sorted(rules_mod.dedupe_key(rec.id, person.id, d) for d in dues if d is not lead)
        key = f"{key}+{hashlib.sha1('|'.join(others).encode()).hexdigest()[:12]}"
    return {
        "dedupe_key": key[:200], "application_id": rec.id, "recipient_id": person.id,
        "recipient_email": person.email or "", "kind": lead.rule.kind,
        "due_on": lead.item.latest,
        "about": ([{"kind": d.rule.kind, "due_on": d.item.latest.isoformat()} for d in dues]
                  if len(dues) > 1 else None),
        "locale": person.locale if person.locale in ("zh", "en") else "zh",
        "subject": subject, "body": body,
        "status": "held" if person.mail_digest else "pending", "attempts": 0,
        "next_attempt_at": now, "created_at": now,
    }


def _write(s: DbSession, rows: list[dict[str, Any]], base_url: str, now: datetime
           ) -> tuple[int, int]:
    """Outbox rows (duplicates skipped by the unique key) and one notification each."""
    if not rows:
        return 0, 0
    inserted = rr.add_outbox(s, rows)
    held_keys = {r["dedupe_key"] for r in rows if r["status"] == "held"}
    rr.add_notifications(s, [
        {"user_id": r.recipient_id, "outbox_id": r.id, "application_id": r.application_id,
         "title": r.subject, "body": r.body,
         "link": case_link(base_url, r.application_id) if r.application_id else None,
         "created_at": now, "read_at": None}
        for r in inserted if r.recipient_id is not None])
    return len(inserted), sum(1 for r in inserted if r.dedupe_key in held_keys)


def scan(uow: UnitOfWork, at: datetime | None = None, *, base_url: str, batch: int = BATCH,
         digest_hour: int = DIGEST_HOUR) -> ScanResult:
    """Write every reminder due at `at` (default now) to the outbox, exactly once; its
    links point at `base_url` (the settings' BASE_URL, given by the caller).

    Safe to run twice, late, or in two processes at once: the outbox's unique key drops
    repeats, and a lease (a row with an expiry, renewed by every batch) keeps the work
    single — a second scanner finds it taken and returns `skipped="locked"`; a scanner
    killed mid-way blocks the next one for at most LOCK_TTL. Each batch is its own short
    transaction: nothing is held across the work but the lease."""
    at = at or utcnow()
    if at.tzinfo is None:
        raise ValueError("scan() needs an aware datetime")
    day = local_date(at)
    result = ScanResult(day=day)
    holder = f"scan-{uuid.uuid4().hex[:12]}"
    with uow.read():
        cal = reference_repo.load_calendar(uow.session)
    if not cal.is_workday(day):
        result.skipped = "holiday"  # reminders only on working days; the next one catches up
        return result
    days = Days(cal)
    with uow:
        if not rr.take_lease(uow.session, rr.SCAN_LOCK, holder, real_utcnow(), LOCK_TTL):
            result.skipped = "locked"
            return result
        uow.commit()
    try:
        _scan_batches(uow, holder, day, days, base_url, batch, result)
    finally:
        with uow:
            rr.release_lease(uow.session, rr.SCAN_LOCK, holder)
            uow.commit()
    if result.skipped is None and at.astimezone(CHINA).hour >= digest_hour:
        result.digests = compose_digests(uow, at, cal=cal, base_url=base_url)
    return result


def _scan_batches(uow: UnitOfWork, holder: str, day: date, days: Days, base_url: str,
                  batch: int, result: ScanResult) -> None:
    """Write the due cases' reminders, `batch` cases a transaction, while the lease is
    ours (`result.skipped = "locked"` when it expired and another scan took over)."""
    while True:
        with uow:
            s = uow.session
            if not rr.take_lease(s, rr.SCAN_LOCK, holder, real_utcnow(), LOCK_TTL):
                result.skipped = "locked"
                return
            ids = rr.due_case_ids(s, day, batch)
            if not ids:  # committed (the lease renewed), not rolled back: a ROLLBACK makes
                uow.commit()  # psycopg drop every statement it prepared (`UnitOfWork.read`)
                return
            rows = _scan_batch(s, ids, day, days, base_url, result)
            written, held = _write(s, rows, base_url, utcnow())
            result.cases += len(ids)
            result.written += written
            result.held += held
            result.batches += 1
            if written > held:
                uow.record("outbox_written", count=written - held)
            uow.commit()


# --- relevance: a reminder whose reason is gone is not sent ------------------------------

def reason_gone(s: DbSession, row: OutboxRow, now: datetime) -> str | None:
    """Why a queued reminder should no longer be sent (case moved on, report filed,
    deadline changed, recipient gone), or None if it still should."""
    return reasons_gone(s, [row], now).get(row.id)


def reasons_gone(s: DbSession, rows: list[OutboxRow], now: datetime) -> dict[int, str]:
    """`reason_gone` for several queued messages at once, with the same few queries for
    the whole lot (the delivery worker checks a claimed batch): outbox id → why not."""
    check = [r for r in rows if is_reminder(r) and r.application_id is not None]
    if not check:
        return {}
    recs = {c.id: c for c in rr.cases(s, list({r.application_id for r in check
                                               if r.application_id is not None}))}
    active = rr.people(s, {r.recipient_id for r in check if r.recipient_id is not None})
    rounds = _rounds(s, {c.round_id for c in recs.values()}, local_date(now)) if recs else {}
    facts = _facts(s, list(recs.values()), rounds) if recs else {}
    cal = reference_repo.load_calendar(s) if recs else None
    out: dict[int, str] = {}
    for row in check:
        rec = recs.get(row.application_id)  # type: ignore[arg-type]
        if rec is None:
            out[row.id] = "case no longer exists"
        elif row.recipient_id is not None and row.recipient_id not in active:
            out[row.id] = "recipient deactivated"
        elif not any(rules_mod.still_open(kind, due_on, facts[rec.id],
                                          rounds[rec.round_id].table,
                                          rounds[rec.round_id].rules, cal,  # type: ignore[arg-type]
                                          local_date(now))
                     for kind, due_on in _obligations(row)):
            out[row.id] = f"reason gone: case is {rec.state}"
    return out


def is_reminder(row: OutboxRow) -> bool:
    """Is this queued message a deadline reminder (`rules_mod.dedupe_key`), whichever
    programme's table it came from — not a digest, an event notice or a remark?"""
    return row.dedupe_key.startswith("r|")


def _obligations(row: OutboxRow) -> list[tuple[str, date | None]]:
    """(kind, due date) of each obligation a queued reminder names."""
    if row.about:
        return [(str(a["kind"]), date.fromisoformat(a["due_on"]) if a.get("due_on") else None)
                for a in row.about]
    return [(row.kind, row.due_on)]


# --- digests -------------------------------------------------------------------------------

def compose_digests(uow: UnitOfWork, at: datetime, *, base_url: str,
                    cal: WorkCalendar | None = None) -> int:
    """One mail per digest user and working day listing their held reminders (items
    whose reason has gone are dropped), linking to the site at `base_url` (the settings'
    BASE_URL, given by the caller). Returns the digests written."""
    day = local_date(at)
    written = 0
    with uow:
        s = uow.session
        cal = cal or reference_repo.load_calendar(s)
        if not cal.is_workday(day):
            return 0
        holder = f"digest-{uuid.uuid4().hex[:8]}"
        if not rr.take_lease(s, rr.SCAN_LOCK, holder, real_utcnow(), LOCK_TTL):
            return 0
        by_user: dict[int, list[OutboxRow]] = defaultdict(list)
        for row in rr.held(s):
            if row.recipient_id is not None:
                by_user[row.recipient_id].append(row)
        now = utcnow()
        for user_id, items in by_user.items():
            written += _digest(s, user_id, items, day, base_url, now)
        rr.release_lease(s, rr.SCAN_LOCK, holder)
        s.flush()
        if written:
            uow.record("outbox_written", count=written)
        uow.commit()
    return written


def _digest(s: DbSession, user_id: int, items: list[OutboxRow], day: date, base_url: str,
            now: datetime) -> int:
    """Today's digest for one user, of the held items still relevant (the others are
    cancelled): 1 if it was written, 0 if nothing is left or it went out already."""
    person = rr.person(s, user_id)
    keep = []
    for item in items:
        why = reason_gone(s, item, now)
        if why:
            rr.cancel(s, item.id, why)
        else:
            keep.append(item)
    if not keep or person is None:
        return 0
    loc = person.locale if person.locale in ("zh", "en") else "zh"
    subject = translate("【每日提醒】%(date)s 您有 %(n)s 项待办提醒", loc,
                        date=fmt_date(day, loc), n=len(keep))
    parts = [translate("%(name)s，您好：", loc, name=person.name), "",
             translate("以下是今天的提醒汇总：", loc), ""]
    for i, item in enumerate(keep, 1):
        parts.append(f"{i}. {item.subject}")
        if item.application_id:
            parts.append(f"   {case_link(base_url, item.application_id)}")
    parts += ["", translate("可在“通知”页面改为逐条发送。", loc),
              translate("本邮件由系统自动发送，请勿直接回复。", loc)]
    got = rr.add_outbox(s, [{
        "dedupe_key": f"digest|{user_id}|{day.isoformat()}", "application_id": None,
        "recipient_id": user_id, "recipient_email": person.email or "",
        "kind": "digest", "due_on": day, "locale": loc, "subject": subject[:300],
        "body": "\n".join(parts), "status": "pending", "attempts": 0,
        "next_attempt_at": now, "created_at": now}])
    if not got:
        return 0  # today's digest went out already: these wait for tomorrow's
    for item in keep:
        item.status, item.digest_id = "digested", got[0].id
    return 1


# --- operations ----------------------------------------------------------------------------

def replan(uow: UnitOfWork, round_year: int | None = None, at: datetime | None = None,
           code: str | None = None) -> int:
    """Have the next scan re-plan every open case (of one programme, of one of its rounds:
    a year alone is notice 002's round): call after a round's dates or reminder rules
    change. Returns the cases touched."""
    day = local_date(at or utcnow())
    with uow:
        s = uow.session
        round_ids: list[int] | None = None
        if code is not None and code not in {p.code for p in known()}:
            raise ValidationFailed(refuse("unknown_programme", f"未知的专项：{code}",
                                          f"no programme {code!r}", field="programme"))
        if round_year is not None:
            rnd = rounds_repo.round_by_year(s, round_year, code or DEFAULT_CODE)
            if rnd is None:
                raise ValidationFailed(refuse("not_found", "未找到该申报年度",
                                              "no such round", field="round_year"))
            round_ids = [rnd.id]
        elif code is not None:
            round_ids = rounds_repo.round_ids_of(s, code)
        n = rr.replan_open_cases(s, day, round_ids)
        uow.commit()
        return n


# --- in-app notifications and the digest preference ------------------------------------

@dataclass
class Inbox:
    items: list[Any]
    unread: int
    mail_digest: bool


def notifications(uow: UnitOfWork, user_id: int, *, limit: int = 100,
                  unread_only: bool = False, programme: str | None = None) -> Inbox:
    """A user's in-app notifications (one per reminder mail), newest first; those about one
    programme's cases when it is named."""
    with uow.read():
        s = uow.session
        user = users_repo.user_by_id(s, user_id)
        items = rr.notifications_of(s, user_id, max(1, min(limit, 500)), unread_only,
                                    programme)
        return Inbox(items, rr.unread_count(s, user_id), bool(user.mail_digest))


def mark_read(uow: UnitOfWork, user_id: int, ids: list[int] | None = None,
              now: datetime | None = None) -> int:
    """Mark some (or, with ids None, all) of the user's notifications read."""
    with uow:
        n = rr.mark_read(uow.session, user_id, ids, now or utcnow())
        uow.commit()
        return n


def set_mail_digest(uow: UnitOfWork, user_id: int, digest: bool) -> None:
    """Immediate mails (False) or one daily digest (True)."""
    with uow:
        user = users_repo.user_by_id(uow.session, user_id)
        user.mail_digest = bool(digest)
        uow.commit()
