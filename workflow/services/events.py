"""Event notifications (issue 17, item 2): after a transition, the people it concerns are
told in the app and — if they chose so — by mail, in their language (Chinese first).

Nothing is lost: the transition's history row is the event, written in the transition's
own statement (`cases_repo.write_transition`), so nothing is added to that path. The worker's
sweep (`sweep`, beat every few seconds) turns each history row not yet told into
notifications and outbox rows in one transaction with a marker (`transition_notices`),
so a transition is told once however often or however concurrently the sweep runs, and a
worker that dies mid-way leaves it to the next sweep. The outbox then delivers the mail
(`services.mail`).

Who is told (from the programme's definition, not from trigger names): the applicant of
the case; the people whose turn it is in the state the case moved to (the state's
`waiting` roles, scoped like the worklists: a provincial reviewer of the case's
province, any ministry reviewer); and whoever deputises for them today. Not the person
who acted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from workflow.programme import Programme, StateDef
from workflow.roles import Role
from workflow.services.clock import local_date, utcnow
from workflow.services.language import translate
from workflow.services.reminders import case_link
from workflow.storage import cases_repo, rounds_repo, users_repo
from workflow.storage import events_repo as er
from workflow.storage import reminders_repo as rr
from workflow.storage.models import ApplicationRow, HistoryRow, UserRow
from workflow.storage.uow import DbSession, UnitOfWork

LOOKBACK = timedelta(days=3)  # the sweep reads the transitions of the last days
SWEEP_LIMIT = 500
KIND_TRANSITION = "case_event"
KIND_MENTION = "mention"
LOCALES = ("zh", "en")


@dataclass(frozen=True)
class Message:
    """One notice to one person: the in-app notification and, if wanted, the mail."""

    recipient: er.Recipient
    dedupe_key: str
    kind: str
    application_id: int | None  # None: about no one case (a province's report)
    subject: str
    body: str
    link: str


def _loc(person: er.Recipient) -> str:
    return person.locale if person.locale in LOCALES else "zh"


def state_label(state: StateDef, loc: str) -> str:
    return state.en if loc == "en" else state.zh


def case_name(app: ApplicationRow, loc: str) -> str:
    return app.applicant_name or translate("申报 #%(id)s", loc, id=app.id)


def write(s: DbSession, messages: list[Message], now: datetime) -> int:
    """Notifications for every message, and an outbox row for those who want mail (held
    for the daily digest if that is their choice); a repeated key writes nothing."""
    if not messages:
        return 0
    mailed = rr.add_outbox(s, [{
        "dedupe_key": m.dedupe_key[:200], "application_id": m.application_id,
        "recipient_id": m.recipient.id, "recipient_email": m.recipient.email or "",
        "kind": m.kind, "due_on": None, "locale": _loc(m.recipient),
        "subject": m.subject[:300], "body": m.body,
        "status": "held" if m.recipient.mail_digest else "pending", "attempts": 0,
        "next_attempt_at": now, "created_at": now}
        for m in messages if m.recipient.notify_by_mail])
    outbox = {r.dedupe_key: r.id for r in mailed}
    rr.add_notifications(s, [
        {"user_id": m.recipient.id, "outbox_id": outbox.get(m.dedupe_key[:200]),
         "application_id": m.application_id, "title": m.subject[:300], "body": m.body,
         "link": m.link, "created_at": now, "read_at": None}
        for m in messages])
    return len(messages)


# --- transitions ---------------------------------------------------------------------------

def concerned(s: DbSession, app: ApplicationRow, dest: StateDef, today: Any,
              actor_ids: set[int]) -> list[er.Recipient]:
    """The applicant, the people whose turn it is in `dest` (within the case's scope),
    and their deputies today; not the person who acted."""
    people = {p.id: p for p in er.recipients(s, UserRow.id == app.owner_id)}
    for role in sorted(dest.waiting, key=lambda r: r.value):
        if role in (Role.PROVINCIAL_REVIEWER, Role.MINISTRY_REVIEWER):
            people.update((p.id, p) for p in er.reviewers(s, role, app.province_id))
    people.update((p.id, p) for p in er.deputies_of(s, list(people), today))
    return [p for i, p in sorted(people.items()) if i not in actor_ids]


def transition_message(person: er.Recipient, app: ApplicationRow, history: HistoryRow,
                       prog: Programme, base_url: str) -> Message:
    """The notice of one transition, in the recipient's language."""
    loc = _loc(person)
    name = case_name(app, loc)
    step = prog.by_trigger.get(history.trigger)
    action = (step.en if loc == "en" else step.zh) if step and step.zh else history.trigger
    state = state_label(prog.state(history.to_state), loc)
    link = case_link(base_url, app.id)
    subject = translate("【申报进展】%(case)s：%(action)s，当前状态为“%(state)s”", loc,
                        case=name, action=action, state=state)
    lines = [translate("%(name)s，您好：", loc, name=person.name), "",
             translate("申报单位：%(case)s", loc, case=name),
             translate("办理事项：%(action)s（办理人：%(who)s）", loc, action=action,
                       who=history.actor_name),
             translate("当前状态：%(state)s", loc, state=state)]
    if history.reason:
        lines.append(translate("理由：%(reason)s", loc, reason=history.reason))
    lines += ["", translate("办理链接：%(link)s", loc, link=link), "",
              translate("本邮件由系统自动发送，请勿直接回复。", loc)]
    return Message(person, f"event|{history.id}|{person.id}", KIND_TRANSITION, app.id,
                   subject, "\n".join(lines), link)


def notify_transition(uow: UnitOfWork, history_id: int, *, base_url: str,
                      now: datetime | None = None) -> int:
    """Tell the people one transition concerns, once, with a link under `base_url` (the
    settings' BASE_URL, given by the caller); returns how many were told (0 if it was
    told already or is being told by another worker)."""
    now = now or utcnow()
    with uow:
        s = uow.session
        marker = er.take(s, history_id, now)
        history = s.get(HistoryRow, history_id)
        if marker is None or history is None:
            return 0
        app = cases_repo.get_application(s, history.application_id)
        prog = rounds_repo.programme_of_round(app.round)
        if history.to_state not in prog.states:
            uow.commit()  # a state this programme no longer knows: nobody to tell
            return 0
        people = concerned(s, app, prog.state(history.to_state), local_date(now),
                           {i for i in (history.actor_id, history.on_behalf_of_id) if i})
        told = write(s, [transition_message(p, app, history, prog, base_url) for p in people],
                     now)
        marker.notified = told
        if told:
            uow.record("outbox_written", count=told)
        uow.commit()
        return told


def sweep(uow: UnitOfWork, *, base_url: str, now: datetime | None = None,
          limit: int = SWEEP_LIMIT) -> int:
    """Tell the people of every recent transition not told yet (what the worker runs);
    returns how many notices were written."""
    now = now or utcnow()
    with uow.read():
        ids = er.untold(uow.session, now - LOOKBACK, limit)
    return sum(notify_transition(uow, i, base_url=base_url, now=now) for i in ids)


# --- the preference --------------------------------------------------------------------------

def set_notify_by_mail(uow: UnitOfWork, user_id: int, by_mail: bool) -> None:
    """In-app only (False) or in-app and by mail (True), for transitions and mentions."""
    with uow:
        user = users_repo.user_by_id(uow.session, user_id)
        user.notify_by_mail = bool(by_mail)
        uow.commit()


def notify_by_mail(uow: UnitOfWork, user_id: int) -> bool:
    with uow.read():
        return bool(users_repo.user_by_id(uow.session, user_id).notify_by_mail)


def why_here(uow: UnitOfWork, user_id: int, app_id: int) -> HistoryRow | None:
    """The transition that brought the case to its current state, if it gave a reason
    (a return for revision: shown where the applicant works on the form)."""
    from workflow.services import cases

    rows = cases.history_of(uow, user_id, app_id)
    last = rows[-1] if rows else None
    return last if last is not None and last.reason else None
