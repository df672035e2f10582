"""Comments on a case (issue 17, item 3): internal notes between reviewers (never shown
to the applicant) and remarks to the applicant (optionally on one field of the form),
with @username mentions that tell the person mentioned — in the app, and by mail if
they chose so — in the comment's own transaction (the outbox delivers the mail)."""

from __future__ import annotations

import re
from datetime import datetime

from workflow import permissions
from workflow.errors import Refusal, ValidationFailed, refuse
from workflow.services import audit, cases, events
from workflow.services.clock import local_date, utcnow
from workflow.services.language import translate
from workflow.services.reminders import case_link
from workflow.storage import audit_repo, rounds_repo, scope_repo, users_repo
from workflow.storage import events_repo as er
from workflow.storage.models import ApplicationRow, CommentRow, UserRow
from workflow.storage.uow import DbSession, UnitOfWork

MAX_CHARS = 2000
MAX_MENTIONS = 10
VISIBILITIES = ("internal", "applicant")
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.\-]{1,64})")


def mentioned_names(body: str) -> list[str]:
    """The @usernames a comment names, in order, each once."""
    return list(dict.fromkeys(m.rstrip(".-") for m in MENTION.findall(body)))


def _case_for(s: DbSession, user_id: int, app_id: int) -> tuple[UserRow, ApplicationRow]:
    user = users_repo.user_by_id(s, user_id)
    row, _actor = cases.case_for(s, user, app_id, "case.comment")
    return user, row


def _sees(s: DbSession, user: UserRow, row: ApplicationRow, visibility: str) -> bool:
    if not permissions.allowed(user, "case.comment") or scope_repo.actor_for_case(
            s, user, row, local_date(utcnow())) is None:
        return False
    return visibility == "applicant" or permissions.allowed(user, "case.internal")


def _checked(s: DbSession, user: UserRow, row: ApplicationRow, body: str, visibility: str,
             field: str | None) -> tuple[str, list[UserRow]]:
    """The comment's text and the people it mentions; `ValidationFailed` with every
    problem found, each naming its field."""
    errors: list[Refusal] = []
    text = (body or "").strip()
    if not text:
        errors.append(refuse("required", "评论内容不能为空", "the comment is empty",
                             field="body"))
    elif len(text) > MAX_CHARS:
        errors.append(refuse("too_long", f"评论不得超过 {MAX_CHARS} 字",
                             f"a comment is limited to {MAX_CHARS:,} characters", field="body",
                             details={"length": len(text), "max": MAX_CHARS}))
    if visibility not in VISIBILITIES:
        errors.append(refuse("invalid_choice", "请选择内部备注或给申报单位的意见",
                             "visibility must be internal or applicant", field="visibility",
                             details={"value": str(visibility)[:20]}))
    elif visibility == "internal" and not permissions.allowed(user, "case.internal"):
        errors.append(refuse("reviewers_only_internal", "只有审核人员可以写内部备注",
                             "only reviewers write internal notes", field="visibility"))
    if field and field not in rounds_repo.programme_of_round(row.round).form.by_name:
        errors.append(refuse("invalid_choice", "申报书中没有该栏目", "the form has no such field",
                             field="field", details={"value": field[:60]}))
    names = mentioned_names(text)
    if len(names) > MAX_MENTIONS:
        errors.append(refuse("too_many_mentions", f"一条评论最多提及 {MAX_MENTIONS} 人",
                             f"a comment mentions at most {MAX_MENTIONS} people", field="body"))
        names = names[:MAX_MENTIONS]
    known = er.users_named(s, names)
    people = []
    for name in names:
        person = known.get(name)
        if person is None:
            errors.append(refuse("unknown_user", f"没有用户名为 @{name} 的用户",
                                 f"there is no user @{name}", field="body",
                                 details={"username": name}))
        elif visibility in VISIBILITIES and not _sees(s, person, row, visibility):
            errors.append(refuse("mention_cannot_see", f"@{name} 无权查看这条评论",
                                 f"@{name} cannot see this comment", field="body",
                                 details={"username": name}))
        elif person.id != user.id:
            people.append(person)
    if errors:
        raise ValidationFailed(*errors)
    return text, people


def post(uow: UnitOfWork, user_id: int, app_id: int, body: str, visibility: str = "internal",
         field: str | None = None, *, now: datetime | None = None,
         base_url: str) -> CommentRow:
    """Add a comment; the people it mentions (and, for a remark to the applicant, the
    applicant) are told in the same transaction, with a link under `base_url` (the
    settings' BASE_URL, given by the caller)."""
    now = now or utcnow()
    field = (field or "").strip() or None
    with uow:
        s = uow.session
        user, row = _case_for(s, user_id, app_id)
        text, mentioned = _checked(s, user, row, body, visibility, field)
        comment = CommentRow(application_id=row.id, author_id=user.id,
                             author_name=user.display_name, author_role=user.role,
                             visibility=visibility, field=field, body=text,
                             mentions=[p.id for p in mentioned], created_at=now)
        s.add(comment)
        s.flush()
        told = {p.id for p in mentioned}
        if visibility == "applicant" and permissions.allowed(user, "case.internal") \
                and row.owner_id != user.id:
            told.add(row.owner_id)
        people = er.recipients(s, UserRow.id.in_(told)) if told else []
        written = events.write(s, [_message(p, comment, row, user, base_url, p.id in {
            m.id for m in mentioned}) for p in people], now)
        audit.append(s, "comment_added", who=audit.Who.of(user), object_type="application",
                     object_id=row.id, chain=audit_repo.SYSTEM_CHAIN, now=now,
                     details={"comment": comment.id, "visibility": visibility,
                              "mentions": [p.username for p in mentioned]})
        if written:
            uow.record("outbox_written", count=written)
        uow.commit()
        return comment


def _message(person: er.Recipient, comment: CommentRow, row: ApplicationRow, author: UserRow,
             base_url: str, mentioned: bool) -> events.Message:
    loc = person.locale if person.locale in events.LOCALES else "zh"
    name = events.case_name(row, loc)
    link = case_link(base_url, row.id) + "#comments"
    if mentioned:
        subject = translate("【提及】%(who)s 在“%(case)s”的评论中提到了您", loc,
                            who=author.display_name, case=name)
    else:
        subject = translate("【审核意见】%(case)s：%(who)s 给您留了意见", loc,
                            case=name, who=author.display_name)
    lines = [translate("%(name)s，您好：", loc, name=person.name), "",
             translate("申报单位：%(case)s", loc, case=name)]
    if comment.field:
        f = rounds_repo.programme_of_round(row.round).form.by_name.get(comment.field)
        label = (f.en if loc == "en" else f.zh) if f is not None else comment.field
        lines.append(translate("栏目：%(field)s", loc, field=label))
    lines += ["", comment.body, "", translate("办理链接：%(link)s", loc, link=link), "",
              translate("本邮件由系统自动发送，请勿直接回复。", loc)]
    kind = events.KIND_MENTION if mentioned else "remark"
    return events.Message(person, f"{kind}|{comment.id}|{person.id}", kind, row.id, subject,
                          "\n".join(lines), link)


def of_case(uow: UnitOfWork, user_id: int, app_id: int) -> list[CommentRow]:
    """A case's comments the user may read (the applicant: only the remarks to them)."""
    with uow.read():
        s = uow.session
        user, _row = _case_for(s, user_id, app_id)
        return er.comments(s, app_id, internal=permissions.allowed(user, "case.internal"))
