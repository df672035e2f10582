"""Deadline reminders and escalation as data: who is reminded of what, and on which days.

Pure rules, no database: the scan (`workflow.services.reminders`) gives a case's facts
and a day, and gets back the reminders due that day and the next day anything is due.

The table itself is each programme's data: `[[reminders]]` in its definition file, read by
`parse_reminders` (who, about what, before which deadline, in its own zh/en words); a
round runs its programme's table with its own days (`rules_of_round`).

- A reminder goes out N working days before its deadline (round default 10, 5, 2, 1 —
  `RoundRules.reminder_days_before`), only on working days of China's calendar.
- Once a deadline has passed, the case is escalated to the next level (province head
  for applicants, the ministry head for provinces and the ministry) on the 1st working
  day overdue and then every `escalate_every_working_days` working days until resolved.
- A reminder exists only while its reason does: the case is in one of the rule's states
  and, for reports, the report has not been filed.
- Every report period that is overdue is one obligation, not one per period: a base
  that has missed eleven quarters gets one escalation naming the eleven, not eleven.
- The planner computes the latest stage due and the next stage directly from the
  deadline and the day (working-day arithmetic is O(log n), `workflow.calendar`): a scan
  after a week's downtime or a clock twenty years ahead costs what today's costs, and
  sends one catch-up per obligation, naming how overdue it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from workflow.calendar import WorkCalendar
from workflow.errors import DefinitionError
from workflow.reporting import annual_due, quarter_of, quarterly_due
from workflow.rules import RoundRules


class Audience(StrEnum):
    """Whom a reminder or an escalation goes to."""

    OWNER = "owner"  # the applicant who owns the case (申报单位 / 基地)
    PROVINCE = "province"  # the case's provincial reviewers (省级商务主管部门)
    PROVINCE_HEAD = "province_head"  # the province's head (处长): users.is_head
    MINISTRY = "ministry"  # 商务部科技司 reviewers
    MINISTRY_HEAD = "ministry_head"  # 司领导: ministry reviewers with is_head


class Deadline(StrEnum):
    """Where a rule's deadline comes from."""

    PROVINCIAL_INTERNAL = "provincial_internal"  # the province's own date for drafts
    SUBMISSION = "submission"  # 002 §六(三): 4月30日前向商务部报送
    NOTICE_ENDS = "notice_ends"  # applications.notice_ends_on (公示期)
    APPROVAL = "approval"  # 002 §六(三): 5月底前办理完核准
    QUARTERLY = "quarterly"  # 002 §四(四): 每季度上报
    ANNUAL = "annual"  # 002 §四(四): 每年12月底前上报年度工作报告
    RECTIFICATION = "rectification"  # applications.rectification_deadline (限期整改)


@dataclass(frozen=True)
class ReminderRule:
    """One row of the reminder table: who, about what, before which deadline — and what
    the reminder calls it and asks for, in Chinese and English (the programme's wording)."""

    kind: str
    states: frozenset[str]  # states of the case's programme
    audience: Audience
    deadline: Deadline
    days_before: tuple[int, ...]
    escalate_to: Audience | None
    escalate_every: int
    zh: str = ""  # what it is about (事项); empty: the kind's name
    en: str = ""
    action_zh: str = ""  # what the recipient is asked to do; empty: nothing added
    action_en: str = ""

    def title(self, locale: str) -> str:
        """What the reminder is about, in `locale` (Chinese first)."""
        return (self.en if locale == "en" else self.zh) or self.zh or self.kind

    def action(self, locale: str) -> str:
        """What the recipient is asked to do, in `locale` (empty: nothing)."""
        return (self.action_en if locale == "en" else self.action_zh) or self.action_zh

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "states": sorted(self.states),
            "audience": self.audience.value, "deadline": self.deadline.value,
            "days_before": list(self.days_before),
            "escalate_to": self.escalate_to.value if self.escalate_to else None,
            "escalate_every": self.escalate_every}
        out.update({k: getattr(self, k) for k in WORDING if getattr(self, k)})
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReminderRule:
        esc = data.get("escalate_to")
        return cls(kind=str(data["kind"]), states=frozenset(str(s) for s in data["states"]),
                   audience=Audience(data["audience"]), deadline=Deadline(data["deadline"]),
                   days_before=tuple(int(n) for n in data["days_before"]),
                   escalate_to=Audience(esc) if esc else None,
                   escalate_every=int(data["escalate_every"]),
                   **{k: str(data[k]) for k in WORDING if data.get(k)})


WORDING = ("zh", "en", "action_zh", "action_en")


@dataclass(frozen=True)
class ReminderDef:
    """A row of a programme's reminder table (`[[reminders]]` in its definition file): the
    round supplies the days — its `reminder_days_before` and `escalate_every_working_days`
    — unless the row fixes its own."""

    kind: str
    states: frozenset[str]
    audience: Audience
    deadline: Deadline
    escalate_to: Audience | None
    zh: str
    en: str
    action_zh: str = ""
    action_en: str = ""
    days_before: tuple[int, ...] | None = None  # None: the round's
    # only the round's days at most this many working days before the deadline (1 if the
    # round has none that late): a public notice lasts a few working days only
    within_days: int | None = None
    escalate_every: int | None = None  # None: the round's

    def rule(self, rules: RoundRules) -> ReminderRule:
        """The row as a round with these rules runs it."""
        before = self.days_before or tuple(rules.reminder_days_before)
        if self.within_days is not None:
            before = tuple(n for n in before if n <= self.within_days) or (1,)
        every = self.escalate_every or rules.escalate_every_working_days
        return ReminderRule(self.kind, self.states, self.audience, self.deadline, before,
                            self.escalate_to, every, self.zh, self.en, self.action_zh,
                            self.action_en)


REMINDER_KEYS = {"kind", "states", "audience", "deadline", "escalate_to", "zh", "en",
                 "action_zh", "action_en", "days_before", "within_days", "escalate_every"}
RESERVED_KINDS = ("digest",)  # the daily digest's own outbox kind


def _choice(where: str, raw: Any, enum: type[StrEnum], what: str) -> Any:
    try:
        return enum(raw)
    except ValueError:
        raise DefinitionError(f"{where}: unknown {what} {raw!r} (one of "
                              f"{', '.join(x.value for x in enum)})") from None


def _positive(where: str, raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise DefinitionError(f"{where}: must be a whole number of working days, 1 or more")
    return raw


def _reminder(file: str, i: int, raw: Any, states: set[str], seen: set[str]) -> ReminderDef:
    kind = raw.get("kind") if isinstance(raw, dict) else None
    at = f"{file}: reminders[{i}]" + (f" ({kind})" if isinstance(kind, str) else "")
    if not isinstance(raw, dict):
        raise DefinitionError(f"{at}: must be a table")
    unknown = sorted(set(raw) - REMINDER_KEYS)
    if unknown:
        raise DefinitionError(f"{at}.{unknown[0]}: is not a reminder setting (one of "
                              f"{', '.join(sorted(REMINDER_KEYS))})")
    if not isinstance(kind, str) or not kind.isidentifier() or not kind.isascii():
        raise DefinitionError(f"{at}.kind: must be a name (letters, digits, _)")
    if kind in RESERVED_KINDS or kind in seen:
        raise DefinitionError(f"{at}.kind: {kind!r} is "
                              + ("defined twice" if kind in seen else "the digest's own"))
    in_states = raw.get("states")
    if not isinstance(in_states, list) or not in_states:
        raise DefinitionError(f"{at}.states: must name at least one state")
    for s in in_states:
        if s not in states:
            raise DefinitionError(f"{at}.states: state {s!r} is not defined")
    words = {}
    for key in WORDING:
        value = raw.get(key, "")
        if not isinstance(value, str) or (key in ("zh", "en") and not value.strip()):
            raise DefinitionError(f"{at}.{key}: must be a non-empty text")
        words[key] = value
    if bool(words["action_zh"]) != bool(words["action_en"]):
        raise DefinitionError(f"{at}.action_{'en' if words['action_zh'] else 'zh'}: "
                              "the action needs both its Chinese and its English")
    days = raw.get("days_before")
    if days is not None:
        if not isinstance(days, list) or not days:
            raise DefinitionError(f"{at}.days_before: must list working days, e.g. [5, 1]")
        days = tuple(_positive(f"{at}.days_before", n) for n in days)
    within = raw.get("within_days")
    every = raw.get("escalate_every")
    esc = raw.get("escalate_to")
    return ReminderDef(
        kind, frozenset(in_states),
        _choice(f"{at}.audience", raw.get("audience"), Audience, "audience"),
        _choice(f"{at}.deadline", raw.get("deadline"), Deadline, "deadline"),
        _choice(f"{at}.escalate_to", esc, Audience, "audience") if esc is not None else None,
        days_before=days,
        within_days=_positive(f"{at}.within_days", within) if within is not None else None,
        escalate_every=_positive(f"{at}.escalate_every", every) if every is not None else None,
        **words)


def parse_reminders(file: str, raw: Any, states: set[str]) -> tuple[ReminderDef, ...] | None:
    """A programme's `[[reminders]]` tables, checked (errors name the file and the key);
    None when the file has none at all."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise DefinitionError(f"{file}: reminders: must be a list of [[reminders]] tables")
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(raw):
        row = _reminder(file, i, entry, states, seen)
        seen.add(row.kind)
        out.append(row)
    return tuple(out)


# what a designated base still owes once its round has closed (002 §四(四), §六(三))
BASE_DUTIES = frozenset({Deadline.QUARTERLY, Deadline.ANNUAL, Deadline.RECTIFICATION})


def rules_of_round(table: Iterable[ReminderDef], rules: RoundRules, closed: bool = False
                   ) -> tuple[ReminderRule, ...]:
    """The reminder table a round runs: its own (`RoundRules.reminder_rules`, worded as
    its programme words the same kind) or its programme's (`table`); once the round has
    closed, only its bases' duties."""
    defs = {d.kind: d for d in table}
    if rules.reminder_rules:
        own = []
        for r in (ReminderRule.from_json(dict(r)) for r in rules.reminder_rules):
            d = defs.get(r.kind)
            if d is not None and not r.zh:
                r = replace(r, zh=d.zh, en=d.en, action_zh=d.action_zh, action_en=d.action_en)
            own.append(r)
        out = tuple(own)
    else:
        out = tuple(d.rule(rules) for d in defs.values())
    if closed:
        out = tuple(r for r in out if r.deadline in BASE_DUTIES)
    return out


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about one case."""

    id: int
    state: str  # a state of the case's programme
    notice_ends_on: date | None = None
    rectification_deadline: date | None = None
    approved_on: date | None = None  # the day it became a base (quarterly duty starts)
    quarterly_filed: frozenset[tuple[int, int]] = frozenset()  # (year, quarter)
    annual_filed: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Item:
    """An open obligation: a rule, a deadline, and the period(s) it is about.

    Overdue reports are one item: `deadline` is the oldest missing period's (it says how
    overdue the base is and paces the escalation), `last_deadline` the newest one's, and
    `periods` lists every missing period."""

    kind: str
    deadline: date
    period: str = ""  # "2006Q2", "2006" for reports ("2006Q2..2007Q1#4" for several)
    periods: tuple[str, ...] = ()
    last_deadline: date | None = None

    @property
    def latest(self) -> date:
        """The deadline of the newest period this item covers."""
        return self.last_deadline or self.deadline


@dataclass(frozen=True)
class Due:
    """A reminder (stage "before<N>") or an escalation ("overdue<K>") due on `on`."""

    rule: ReminderRule
    item: Item
    stage: str
    on: date
    days_left: int  # working days from the scan day to the deadline; < 0 once overdue

    @property
    def escalation(self) -> bool:
        return self.stage.startswith("overdue")

    @property
    def audience(self) -> Audience:
        if self.escalation:
            assert self.rule.escalate_to is not None
            return self.rule.escalate_to
        return self.rule.audience


# --- deadlines ---------------------------------------------------------------------------

def _quarters_from(first: tuple[int, int], last: tuple[int, int]) -> Iterator[tuple[int, int]]:
    y, q = first
    while (y, q) <= last:
        yield y, q
        y, q = (y, q + 1) if q < 4 else (y + 1, 1)


def _reports(kind: str, periods: list[tuple[str, date]], today: date) -> list[Item]:
    """Unfiled report periods as items: one for all the overdue ones, one per upcoming."""
    late = [(p, d) for p, d in periods if d < today]
    out = [Item(kind, d, p) for p, d in periods if d >= today]
    if len(late) == 1:
        out.insert(0, Item(kind, late[0][1], late[0][0], (late[0][0],)))
    elif late:
        names = tuple(p for p, _d in late)
        out.insert(0, Item(kind, late[0][1], f"{names[0]}..{names[-1]}#{len(names)}", names,
                           late[-1][1]))
    return out


def open_items(rule: ReminderRule, facts: CaseFacts, rules: RoundRules, cal: WorkCalendar,
               horizon: date, today: date | None = None) -> list[Item]:
    """The obligations of `rule` on this case that are open and due by `horizon`'s
    reminder window. Reports: the unfiled periods since approval — those overdue on
    `today` (default: none) as one item, the others one each."""
    if facts.state not in rule.states:
        return []
    src = rule.deadline
    if src is Deadline.PROVINCIAL_INTERNAL:
        d = rules.provincial_internal_deadline or rules.submission_deadline
        return [Item(rule.kind, d)]
    if src is Deadline.SUBMISSION:
        return [Item(rule.kind, rules.submission_deadline)]
    if src is Deadline.APPROVAL:
        return [Item(rule.kind, rules.approval_deadline)]
    if src is Deadline.NOTICE_ENDS:
        return [Item(rule.kind, facts.notice_ends_on)] if facts.notice_ends_on else []
    if src is Deadline.RECTIFICATION:
        fixed = facts.rectification_deadline
        return [Item(rule.kind, fixed)] if fixed else []
    if facts.approved_on is None:
        return []
    first = today or date.min
    if src is Deadline.QUARTERLY:
        # the quarter in which the base was approved is the first one it reports
        quarters = [(f"{y}Q{q}", quarterly_due(y, q, rules, cal))
                    for y, q in _quarters_from(quarter_of(facts.approved_on),
                                               quarter_of(horizon))
                    if (y, q) not in facts.quarterly_filed]
        return _reports(rule.kind, quarters, first)
    years = [(str(y), annual_due(y, rules)) for y in range(facts.approved_on.year,
                                                           horizon.year + 1)
             if y not in facts.annual_filed]
    return _reports(rule.kind, years, first)


# --- when reminders fall ---------------------------------------------------------------

class Days:
    """Working-day arithmetic with memory: one scan asks the same questions many times."""

    def __init__(self, cal: WorkCalendar) -> None:
        self.cal = cal
        self._before: dict[tuple[date, int], date] = {}
        self._after: dict[tuple[date, int], date] = {}
        self._left: dict[tuple[date, date], int] = {}

    def is_workday(self, day: date) -> bool:
        return self.cal.is_workday(day)

    def before(self, deadline: date, n: int) -> date:
        """The working day with exactly n working days after it up to the deadline."""
        key = (deadline, n)
        if key not in self._before:
            self._before[key] = self.cal.working_days_before(deadline, n)
        return self._before[key]

    def after(self, deadline: date, k: int) -> date:
        """The k-th working day after the deadline."""
        key = (deadline, k)
        if key not in self._after:
            self._after[key] = self.cal.add_working_days(deadline, k)
        return self._after[key]

    def left(self, today: date, deadline: date) -> int:
        key = (today, deadline)
        if key not in self._left:
            self._left[key] = self.cal.working_days_left(today, deadline)
        return self._left[key]

    def overdue_by(self, today: date, deadline: date) -> int:
        """Working days after the deadline up to today (0 on or before it)."""
        return max(0, -self.left(today, deadline))


@dataclass
class Plan:
    """What a scan does with one case on one day."""

    due: list[Due] = field(default_factory=list)
    next_on: date | None = None


def _latest_stage(rule: ReminderRule, item: Item, days: Days, lo: date, hi: date
                  ) -> tuple[str, date] | None:
    """The last (stage, day) of `item` that falls in [lo, hi], computed, not walked to:
    escalations come after every reminder, so the latest escalation day on or before `hi`
    wins if it is not before `lo`; else the latest reminder day in the window."""
    if rule.escalate_to is not None and rule.escalate_every >= 1:
        behind = days.overdue_by(hi, item.deadline)
        if behind >= 1:
            # escalation days: the 1st working day overdue, then every `escalate_every`
            k = 1 + ((behind - 1) // rule.escalate_every) * rule.escalate_every
            on = days.after(item.deadline, k)
            if on >= lo:
                return f"overdue{k}", on
    for n in sorted(set(rule.days_before)):  # the smallest n falls latest
        on = days.before(item.deadline, n)
        if lo <= on <= hi:
            return f"before{n}", on
    return None


def _next_stage(rule: ReminderRule, item: Item, days: Days, after: date) -> date | None:
    """The first day after `after` on which `item` has a reminder or an escalation."""
    for n in sorted(set(rule.days_before), reverse=True):
        on = days.before(item.deadline, n)
        if on > after:
            return on
    if rule.escalate_to is None or rule.escalate_every < 1:
        return None
    behind = days.overdue_by(after, item.deadline)
    if behind < 1:
        return days.after(item.deadline, 1)
    # the next k = 1 + m*every strictly greater than `behind`
    m = (behind - 1) // rule.escalate_every + 1
    return days.after(item.deadline, 1 + m * rule.escalate_every)


LOOKAHEAD_DAYS = 400  # how far ahead report deadlines are considered (a year and a bit)


def plan(facts: CaseFacts, table: Iterable[ReminderRule], rules: RoundRules, days: Days,
         today: date, since: date | None = None) -> Plan:
    """The reminders due on `today` for this case and the next day to look again.

    `since` is the first day not yet scanned (the case's stored next-reminder date); a
    scan that comes late (downtime, a clock jump) sends per obligation only the latest
    stage it missed — an escalation, or a reminder whose deadline has not passed — with
    the working days left as of today. Nothing is due on a non-working day. The cost is
    that of the open obligations, whatever the time since `since`.
    """
    since = min(since or today, today)
    out = Plan()
    horizon = today + timedelta(days=LOOKAHEAD_DAYS)
    nexts: list[date] = []
    if not days.is_workday(today):
        return Plan(next_on=since)  # reminders only on working days; catch up on the next
    for rule in table:
        for item in open_items(rule, facts, rules, days.cal, horizon, today):
            missed = _latest_stage(rule, item, days, since, today)
            if missed:
                stage, _on = missed
                if stage.startswith("overdue") or today <= item.deadline:
                    out.due.append(Due(rule, item, stage, today, days.left(today, item.deadline)))
            nxt = _next_stage(rule, item, days, today)
            if nxt is not None:
                nexts.append(nxt)
    out.next_on = min(nexts) if nexts else None
    return out


def dedupe_key(app_id: int, recipient_id: int, due: Due) -> str:
    """The outbox key (case, recipient, kind, due date): one row per reminder, ever."""
    period = f"|{due.item.period}" if due.item.period else ""
    return f"r|{app_id}|{recipient_id}|{due.rule.kind}|{due.item.deadline.isoformat()}" \
           f"{period}|{due.stage}"


def still_open(kind: str, deadline: date | None, facts: CaseFacts, table: Iterable[ReminderRule],
               rules: RoundRules, cal: WorkCalendar, today: date) -> bool:
    """Is the obligation behind a queued reminder still open (case not moved on, report
    not filed, deadline unchanged)? A reminder whose reason is gone is not sent. For
    reports `deadline` is the newest period the reminder named: it stays open while any
    period it named (due on or before that) is unfiled."""
    horizon = today + timedelta(days=LOOKAHEAD_DAYS)
    for rule in table:
        if rule.kind != kind:
            continue
        items = open_items(rule, facts, rules, cal, horizon)  # every period on its own
        if rule.deadline in (Deadline.QUARTERLY, Deadline.ANNUAL):
            if deadline is not None and any(i.deadline <= deadline for i in items):
                return True
        elif any(i.deadline == deadline for i in items):
            return True
    return False
