"""A designation programme as data: one definition file under `programmes/` says what each
state of a case means and what each transition does (issue "Programmes as data").

`load(path)` reads a TOML file and checks it, with errors that name the file, the key and
what is wrong: a transition to a state that does not exist, a state that no transition
leaves and that is not terminal, an unknown role or tone, a guard or effect the library
does not have (`check_names`, called where the library is imported), a re-evaluation
finding, parameter or outcome `[assessment]` names that the library in
`workflow.assessment` does not know. The result is compiled once: the engine asks it,
never the file.

Standard library only (tomllib): the domain stays importable without the rest.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workflow.assessment import AssessmentDef, parse_assessment
from workflow.eligibility import CriterionDef, parse_criteria
from workflow.errors import DefinitionError, Refusal, refuse
from workflow.form import FormDef, KindDef, parse_form
from workflow.goals import Goals, parse_goals
from workflow.quarterly_data import Columns, parse_columns
from workflow.reminders import ReminderDef, parse_reminders
from workflow.roles import Role
from workflow.rules import RoundRules, parse_round_defaults, rules_for_year

PROGRAMMES_DIR = Path(__file__).resolve().parents[1] / "programmes"
TONES = ("neutral", "progress", "positive", "warning", "negative")
DEADLINE_SOURCES = ("round.provincial_internal_deadline", "round.submission_deadline",
                    "round.approval_deadline", "case.notice_ends_on",
                    "case.rectification_deadline")
REGISTER_STATUSES = ("designated", "rectifying", "revoked")
LOCKS = ("province",)


DEFINITION_ERROR_HINT = "see docs/programmes.md"


@dataclass(frozen=True)
class StateDef:
    """What a state means, all in one place."""

    key: str
    zh: str
    en: str
    waiting: frozenset[Role] = frozenset()  # whose turn it is
    deadline: tuple[str, ...] = ()  # where its due date comes from (the first set)
    terminal: bool = False
    designated: bool = False  # a base: reports, re-evaluation, the programme's goals
    uses_quota: bool = False  # a new base here counts against its province's quota
    editable: bool = False  # the applicant may change the form
    public_notice: bool = False  # on the public notice, open to objections
    register: str | None = None  # the base's status in the register of bases
    spine: bool = False
    tone: str = "neutral"


@dataclass(frozen=True)
class TransitionDef:
    """One transition: a trigger from some states to one, who may fire it, the guards
    that may refuse it, and the effects it has on the case."""

    trigger: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    reason_required: bool = False
    locks: str | None = None  # "province": runs under the province's lock (its quota)
    zh: str = ""
    en: str = ""
    # a deadline that matters (002 §六(三)): after this date (a round's deadline source)
    # the transition needs a reason and marks the case with the badge `late_zh`/`late_en`
    late_after: str | None = None
    late_zh: str = ""
    late_en: str = ""


@dataclass(frozen=True)
class AttachmentDef:
    """A kind of file a case may carry (附件): its label, who adds it and in which states,
    and the steps that need it (002 §六(三): 推荐文件、申报书、发展方案)."""

    kind: str
    zh: str
    en: str
    role: Role | None = None  # who may add it (None: the system files it, never `attach`)
    states: frozenset[str] = frozenset()  # the states it may be added in
    required_for: frozenset[str] = frozenset()  # triggers refused while it is missing


@dataclass(frozen=True)
class NoticeText:
    """What a programme's public notice (网上公示) says above the cases it lists."""

    title_zh: str
    title_en: str
    lead_zh: str
    lead_en: str

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_zh

    def lead(self, locale: str) -> str:
        return self.lead_en if locale == "en" else self.lead_zh


@dataclass(frozen=True)
class QuarterlyTemplate:
    """The quarterly data template of a programme whose bases report every quarter: the
    heading its notes sheet opens with, citing the rule (the template is in Chinese), and
    the columns a base reports (`[[quarterly.columns]]`; None only in a round frozen before
    they were in the file, which takes the file's)."""

    heading_zh: str
    columns: Columns | None = None


# Files the system stores for its own steps, never chosen by a user: evidence sent with an
# objection (异议, 002 §六(三) 网上公示) and a province's annual work report (002 §四(四)).
SYSTEM_ATTACHMENTS = (
    AttachmentDef("objection_evidence", "异议证明材料", "Evidence for an objection"),
    AttachmentDef("annual_report", "年度工作报告", "Annual work report"),
)


@dataclass(frozen=True)
class Programme:
    """A compiled programme definition."""

    code: str
    name_zh: str
    name_en: str
    citation_zh: str
    citation_en: str
    owner: Role  # the role that plans, opens and closes its rounds
    initial: str
    states: dict[str, StateDef]
    transitions: tuple[TransitionDef, ...]
    form: FormDef
    criteria: tuple[CriterionDef, ...] = ()
    goals: Goals | None = None  # what it aims at (002 §一, §五(二)); None: none set
    attachments: tuple[AttachmentDef, ...] = ()  # the kinds users add, in the file's order
    # the authority whose `owner` keeps the rounds and whose tree may apply (a province's
    # own programme); None: the ministry's, open to every authority
    authority: str | None = None
    # its reminder table (`[[reminders]]`); None: the file has none (a round frozen before
    # the table moved into the file takes the file's own, `frozen`)
    reminders: tuple[ReminderDef, ...] | None = None
    notice: NoticeText | None = None  # None: its cases are never on a public notice
    quarterly: QuarterlyTemplate | None = None  # None: its bases file no quarterly data
    # its re-evaluation rules (`[assessment]`); None: its bases are not re-evaluated
    assessment: AssessmentDef | None = None
    # the rule the list of papers sent with an application cites (the printed 申报书);
    # empty: the document names none
    papers_zh: str = ""
    papers_en: str = ""
    # what a new round starts with (`[rounds]`: dates as month-day, checked); None: the file
    # has none, and its rounds start with notice 002's (`RoundRules.for_year`)
    rounds: dict[str, Any] | None = None
    path: Path | None = None
    source: str | None = None  # the definition's text (what a round opening freezes)
    by_trigger: dict[str, TransitionDef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_trigger.update({t.trigger: t for t in self.transitions})

    def round_rules(self, year: int) -> RoundRules:
        """The rules a new round of this programme in `year` starts with; its owner may
        change the editable ones before it opens (workflow/rounds.py `EDITABLE`)."""
        if self.rounds is None:
            if self.code == DEFAULT_CODE:
                raise DefinitionError(f"{self.code}: rounds: the [rounds] table is missing")
            return RoundRules.for_year(year)
        return rules_for_year(self.rounds, year)

    def state(self, key: str) -> StateDef:
        return self.states[key]

    def keys_where(self, flag: str) -> frozenset[str]:
        return frozenset(k for k, s in self.states.items() if getattr(s, flag))

    @property
    def terminal(self) -> frozenset[str]:
        return self.keys_where("terminal")

    @property
    def designated(self) -> frozenset[str]:
        return self.keys_where("designated")

    @property
    def designating(self) -> frozenset[str]:
        """The triggers that make a case a base: into a designated state from one that is
        not (notice 002's `approve`, 核准 002 §六(三)) — when a base was designated is when
        one of these first fired."""
        designated = self.designated
        return frozenset(t.trigger for t in self.transitions if t.dest in designated
                         and any(s not in designated for s in t.sources))

    @property
    def uses_quota(self) -> frozenset[str]:
        return self.keys_where("uses_quota")

    def waiting_for(self, roles: Iterable[Role]) -> frozenset[str]:
        """The states in which a case waits on one of these roles."""
        wanted = set(roles)
        return frozenset(k for k, s in self.states.items() if s.waiting & wanted)

    def owned_by(self, role: Role, authority_code: str | None) -> bool:
        """Does someone in `role` at `authority_code` keep this programme's rounds?"""
        return role is self.owner and (self.authority is None or authority_code == self.authority)

    def open_to(self, authority_code: str, parent_code: str | None) -> bool:
        """May an authority (a city: with its province's code) apply in its rounds?"""
        return self.authority is None or self.authority in (authority_code, parent_code)

    def attestations(self, kind: str) -> tuple[str, ...]:
        """The criteria of this kind of application a reviewer confirms."""
        return tuple(c.key for c in self.criteria
                     if c.kind == "attestation" and c.applies_to(kind))

    def criterion(self, key: str) -> CriterionDef | None:
        return next((c for c in self.criteria if c.key == key), None)

    def triggers_from(self, state: str) -> list[TransitionDef]:
        return [t for t in self.transitions if state in t.sources]

    @property
    def not_re_evaluated(self) -> Refusal | None:
        """Why its bases are not re-evaluated — its file has no `[assessment]`, and no other
        programme's rules are applied — or None: they are."""
        if self.assessment is not None:
            return None
        return refuse("not_re_evaluated",
                      f"“{self.name_zh}”不进行复评：其项目定义（programmes/{self.code}.toml）未规定"
                      "复评规则（[assessment]），不按其他项目的规则评估",
                      f"{self.name_en} has no re-evaluation: its definition (programmes/"
                      f"{self.code}.toml) has no [assessment] rules, and no other programme's "
                      "are applied", guard="assessment", details={"programme": self.code})

    @property
    def reminder_table(self) -> tuple[ReminderDef, ...]:
        """Who is reminded of what before which deadline, in its cases' states."""
        return self.reminders or ()

    def attachment(self, kind: str) -> AttachmentDef | None:
        """A kind of attachment users of this programme add, by its key."""
        return next((a for a in self.attachments if a.kind == kind), None)

    def required_attachments(self, trigger: str) -> tuple[AttachmentDef, ...]:
        """The attachments a step needs, in the file's order."""
        return tuple(a for a in self.attachments if trigger in a.required_for)

    def attachable(self, role: Role, state: str) -> tuple[AttachmentDef, ...]:
        """The kinds someone in `role` may add to a case in `state`."""
        return tuple(a for a in self.attachments if a.role is role and state in a.states)


# --- loading and checking ---------------------------------------------------------------------

def _fail(path: Path, key: str, what: str) -> DefinitionError:
    return DefinitionError(f"{path.name}: {key}: {what}")


def _roles(path: Path, key: str, raw: Any) -> frozenset[Role]:
    if not isinstance(raw, list):
        raise _fail(path, key, "must be a list of roles")
    out = set()
    for r in raw:
        try:
            out.add(Role(r))
        except ValueError:
            raise _fail(path, key, f"unknown role {r!r} (one of "
                        f"{', '.join(x.value for x in Role)})") from None
    return frozenset(out)


def _text(path: Path, key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _fail(path, key, "must be a non-empty text")
    return raw


def _strings(path: Path, key: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise _fail(path, key, "must be a list of names")
    return tuple(raw)


# the tables of a definition file and the settings of its head: any other key is refused
FILE_TABLES = ("programme", "rounds", "states", "transitions", "attachments", "form", "criteria",
               "goals", "assessment", "reminders", "notice", "quarterly")
HEAD_KEYS = ("code", "name_zh", "name_en", "citation_zh", "citation_en", "owner", "authority",
             "initial", "papers_zh", "papers_en")
# where a case starts and how it leaves: the draft's page (web/forms.py) edits a case in the
# state `drafted` and submits it with the trigger `submit`; a province sees a case once
# `record_submission` has dated it (workflow/storage/scope_repo.py)
DRAFT, SUBMIT, SUBMITTED = "drafted", "submit", "record_submission"
ATTACHMENT_KEYS = {"kind", "zh", "en", "role", "states", "required_for"}
ATTACHMENT_GUARDS = ("required_attachments", "recommendation_letter")  # the second: its old name
STATE_KEYS = {"zh", "en", "waiting", "deadline", "terminal", "designated", "uses_quota",
              "editable", "public_notice", "register", "spine", "tone"}
TRANSITION_KEYS = {"trigger", "from", "to", "roles", "guards", "effects", "reason_required",
                   "locks", "zh", "en", "late_after", "late_zh", "late_en"}


def _state(path: Path, key: str, raw: dict[str, Any]) -> StateDef:
    where = f"states.{key}"
    unknown = sorted(set(raw) - STATE_KEYS)
    if unknown:
        raise _fail(path, f"{where}.{unknown[0]}", "is not a state setting (one of "
                    f"{', '.join(sorted(STATE_KEYS))})")
    deadline = _strings(path, f"{where}.deadline", raw.get("deadline", []))
    for d in deadline:
        if d not in DEADLINE_SOURCES:
            raise _fail(path, f"{where}.deadline", f"unknown deadline source {d!r} (one of "
                        f"{', '.join(DEADLINE_SOURCES)})")
    tone = raw.get("tone", "neutral")
    if tone not in TONES:
        raise _fail(path, f"{where}.tone", f"unknown tone {tone!r} (one of {', '.join(TONES)})")
    register = raw.get("register")
    if register is not None and register not in REGISTER_STATUSES:
        raise _fail(path, f"{where}.register", f"unknown register status {register!r}")
    flags = {}
    for name in ("terminal", "designated", "uses_quota", "editable", "public_notice", "spine"):
        value = raw.get(name, False)
        if not isinstance(value, bool):
            raise _fail(path, f"{where}.{name}", "must be true or false")
        flags[name] = value
    return StateDef(key, _text(path, f"{where}.zh", raw.get("zh")),
                    _text(path, f"{where}.en", raw.get("en")),
                    waiting=_roles(path, f"{where}.waiting", raw.get("waiting", [])),
                    deadline=deadline, register=register, tone=tone, **flags)


def _transition(path: Path, i: int, raw: dict[str, Any], states: dict[str, StateDef]
                ) -> TransitionDef:
    trigger = raw.get("trigger")
    where = f"transitions[{i}]" + (f" ({trigger})" if isinstance(trigger, str) else "")
    unknown = sorted(set(raw) - TRANSITION_KEYS)
    if unknown:
        raise _fail(path, f"{where}.{unknown[0]}", "is not a transition setting (one of "
                    f"{', '.join(sorted(TRANSITION_KEYS))})")
    trigger = _text(path, f"{where}.trigger", trigger)
    sources = _strings(path, f"{where}.from", raw.get("from"))
    if not sources:
        raise _fail(path, f"{where}.from", "names no state")
    for s in sources:
        if s not in states:
            raise _fail(path, f"{where}.from", f"state {s!r} is not defined")
    dest = _text(path, f"{where}.to", raw.get("to"))
    if dest not in states:
        raise _fail(path, f"{where}.to", f"state {dest!r} is not defined")
    roles = _roles(path, f"{where}.roles", raw.get("roles"))
    if not roles:
        raise _fail(path, f"{where}.roles", "names no role")
    locks = raw.get("locks")
    if locks is not None and locks not in LOCKS:
        raise _fail(path, f"{where}.locks", f"unknown lock {locks!r} (one of {', '.join(LOCKS)})")
    reason = raw.get("reason_required", False)
    if not isinstance(reason, bool):
        raise _fail(path, f"{where}.reason_required", "must be true or false")
    late_after = raw.get("late_after")
    late: dict[str, str] = {}
    if late_after is not None:
        if late_after not in DEADLINE_SOURCES or not late_after.startswith("round."):
            raise _fail(path, f"{where}.late_after", f"unknown round deadline {late_after!r} "
                        f"(one of {', '.join(d for d in DEADLINE_SOURCES if d.startswith('round.'))})")
        late = {"late_zh": _text(path, f"{where}.late_zh", raw.get("late_zh")),
                "late_en": _text(path, f"{where}.late_en", raw.get("late_en"))}
    return TransitionDef(trigger, sources, dest, roles,
                         guards=_strings(path, f"{where}.guards", raw.get("guards", [])),
                         effects=_strings(path, f"{where}.effects", raw.get("effects", [])),
                         reason_required=reason, locks=locks,
                         zh=_text(path, f"{where}.zh", raw.get("zh")),
                         en=_text(path, f"{where}.en", raw.get("en")),
                         late_after=late_after, **late)


def _attachments(path: Path, raw: Any, states: dict[str, StateDef],
                 transitions: tuple[TransitionDef, ...]) -> tuple[AttachmentDef, ...]:
    """The `[[attachments]]` tables: each kind's labels, who adds it in which states, and the
    triggers that need it (each of those runs the guard `required_attachments`)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail(path, "attachments", "must be a list of [[attachments]] tables")
    by_trigger = {t.trigger: t for t in transitions}
    system = {a.kind for a in SYSTEM_ATTACHMENTS}
    out: list[AttachmentDef] = []
    for i, entry in enumerate(raw):
        kind = entry.get("kind") if isinstance(entry, dict) else None
        where = f"attachments[{i}]" + (f" ({kind})" if isinstance(kind, str) else "")
        if not isinstance(entry, dict):
            raise _fail(path, where, "must be a table")
        unknown = sorted(set(entry) - ATTACHMENT_KEYS)
        if unknown:
            raise _fail(path, f"{where}.{unknown[0]}", "is not an attachment setting (one of "
                        f"{', '.join(sorted(ATTACHMENT_KEYS))})")
        kind = _text(path, f"{where}.kind", kind)
        if not kind.isidentifier() or not kind.isascii():
            raise _fail(path, f"{where}.kind", f"{kind!r} is not a name (letters, digits, _)")
        if kind in system:
            raise _fail(path, f"{where}.kind", f"{kind!r} is filed by the system, not added")
        if any(a.kind == kind for a in out):
            raise _fail(path, f"{where}.kind", f"{kind!r} is defined twice")
        role_raw = entry.get("role")
        try:
            role = Role(str(role_raw))
        except ValueError:
            raise _fail(path, f"{where}.role", f"unknown role {role_raw!r} (one of "
                        f"{', '.join(x.value for x in Role)})") from None
        if role.is_admin:
            raise _fail(path, f"{where}.role", f"{role.value!r} cannot act on cases")
        in_states = _strings(path, f"{where}.states", entry.get("states"))
        if not in_states:
            raise _fail(path, f"{where}.states", "names no state")
        for s in in_states:
            if s not in states:
                raise _fail(path, f"{where}.states", f"state {s!r} is not defined")
        required_for = _strings(path, f"{where}.required_for", entry.get("required_for", []))
        for t in required_for:
            if t not in by_trigger:
                raise _fail(path, f"{where}.required_for", f"trigger {t!r} is not defined")
            if not set(ATTACHMENT_GUARDS) & set(by_trigger[t].guards):
                raise _fail(path, f"{where}.required_for", f"transition {t!r} does not run the "
                            "guard 'required_attachments' (it would never be asked for)")
        out.append(AttachmentDef(kind, _text(path, f"{where}.zh", entry.get("zh")),
                                 _text(path, f"{where}.en", entry.get("en")), role,
                                 frozenset(in_states), frozenset(required_for)))
    return tuple(out)


NOTICE_KEYS = {"title_zh", "title_en", "lead_zh", "lead_en"}
QUARTERLY_KEYS = {"heading_zh"}


def _table(path: Path, name: str, raw: Any, keys: set[str]) -> dict[str, str] | None:
    """A table of texts (`[notice]`, `[quarterly]`), each key required; None if absent."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _fail(path, name, f"must be a [{name}] table")
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise _fail(path, f"{name}.{unknown[0]}", f"is not a {name} setting (one of "
                    f"{', '.join(sorted(keys))})")
    return {k: _text(path, f"{name}.{k}", raw.get(k)) for k in sorted(keys)}


def _notice(path: Path, raw: Any, states: dict[str, StateDef]) -> NoticeText | None:
    texts = _table(path, "notice", raw, NOTICE_KEYS)
    if texts is None:
        return None
    if not any(s.public_notice for s in states.values()):
        raise _fail(path, "notice", "no state has public_notice = true (the notice would "
                    "never list a case)")
    return NoticeText(**texts)


def _quarterly(path: Path, raw: Any, states: dict[str, StateDef]) -> QuarterlyTemplate | None:
    columns = raw.get("columns") if isinstance(raw, dict) else None
    texts = _table(path, "quarterly", {k: v for k, v in raw.items() if k != "columns"}
                   if isinstance(raw, dict) else raw, QUARTERLY_KEYS)
    if texts is None:
        return None
    if not any(s.designated for s in states.values()):
        raise _fail(path, "quarterly", "no state is designated (no base would ever report)")
    return QuarterlyTemplate(**texts, columns=parse_columns(path.name, columns))


def _papers(path: Path, head: dict[str, Any]) -> tuple[str, str]:
    """The rule the papers cite (zh, en), both or neither; ("", "") when none."""
    if "papers_zh" not in head and "papers_en" not in head:
        return "", ""
    return (_text(path, "programme.papers_zh", head.get("papers_zh")),
            _text(path, "programme.papers_en", head.get("papers_en")))


def _known_keys(path: Path, where: str, raw: dict[str, Any], keys: tuple[str, ...],
                what: str) -> None:
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise _fail(path, f"{where}{unknown[0]}", f"is not {what} (one of "
                    f"{', '.join(sorted(keys))})")


def _owner(path: Path, head: dict[str, Any]) -> Role:
    try:
        owner = Role(str(head.get("owner")))
    except ValueError:
        owner = None
    if owner is None or owner.is_admin:
        raise _fail(path, "programme.owner", f"{head.get('owner')!r} is not a role that plans, "
                    "opens and closes rounds (one of "
                    f"{', '.join(r.value for r in Role if not r.is_admin)})")
    return owner


def _drafts_and_submits(path: Path, states: dict[str, StateDef], initial: str,
                        transitions: tuple[TransitionDef, ...]) -> None:
    """A new case is a draft the applicant edits and submits from the draft's page, and
    the province sees it once submitted."""
    if initial != DRAFT:
        raise _fail(path, "programme.initial", f"must be {DRAFT!r}: a new application starts "
                    f"in the state {DRAFT!r}, the one the draft's page edits")
    if not states[DRAFT].editable:
        raise _fail(path, f"states.{DRAFT}.editable", "must be true: the applicant fills the "
                    "form in while the case is a draft")
    submit = next((t for t in transitions if t.trigger == SUBMIT), None)
    if submit is None or DRAFT not in submit.sources or Role.APPLICANT not in submit.roles:
        raise _fail(path, "transitions", f"no transition {SUBMIT!r} takes the applicant's "
                    f"draft on: the draft's page submits with the trigger {SUBMIT!r} (from "
                    f"{DRAFT!r}, roles including 'applicant')")
    if SUBMITTED not in submit.effects:
        raise _fail(path, f"transitions ({SUBMIT}).effects", f"must include {SUBMITTED!r}: "
                    "a province sees a case only once it has been submitted")


def parse(path: Path, data: dict[str, Any]) -> Programme:
    """A programme from a parsed definition, checked."""
    _known_keys(path, "", data, FILE_TABLES, "a table of a programme file")
    head = data.get("programme")
    if not isinstance(head, dict):
        raise _fail(path, "programme", "the [programme] table is missing")
    _known_keys(path, "programme.", head, HEAD_KEYS, "a setting of [programme]")
    raw_states = data.get("states")
    if not isinstance(raw_states, dict) or not raw_states:
        raise _fail(path, "states", "no state is defined")
    states = {k: _state(path, k, v) for k, v in raw_states.items()}
    raw_transitions = data.get("transitions")
    if not isinstance(raw_transitions, list) or not raw_transitions:
        raise _fail(path, "transitions", "no transition is defined")
    transitions = tuple(_transition(path, i, t, states) for i, t in enumerate(raw_transitions))
    seen: set[str] = set()
    for t in transitions:
        if t.trigger in seen:
            raise _fail(path, f"transitions ({t.trigger})", "the trigger is defined twice")
        seen.add(t.trigger)
    initial = _text(path, "programme.initial", head.get("initial"))
    if initial not in states:
        raise _fail(path, "programme.initial", f"state {initial!r} is not defined")
    for key, s in states.items():
        leaves = any(key in t.sources and t.dest != key for t in transitions)
        if s.terminal and leaves:
            raise _fail(path, f"states.{key}", "is terminal but a transition leaves it")
        if not s.terminal and not leaves:
            raise _fail(path, f"states.{key}", "no transition leaves it and it is not "
                        "terminal (a case there would be stuck)")
    reached = {initial} | {t.dest for t in transitions}
    for key in states:
        if key not in reached:
            raise _fail(path, f"states.{key}", "no transition reaches it")
    _drafts_and_submits(path, states, initial, transitions)
    owner = _owner(path, head)
    attachments = _attachments(path, data.get("attachments"), states, transitions)
    papers = _papers(path, head)
    form = parse_form(path.name, data.get("form"))
    criteria = parse_criteria(path.name, data.get("criteria"), form.by_name,
                              set(form.kind_keys))
    rounds = parse_round_defaults(path.name, data.get("rounds"))
    for key in (rounds or {}).get("blocking_criteria", ()):
        if key not in {c.key for c in criteria}:
            raise _fail(path, "rounds.blocking_criteria", f"{key!r} is not a criterion of "
                        "this programme ([[criteria]] key)")
    goals = parse_goals(path.name, data.get("goals"))
    return Programme(code=_text(path, "programme.code", head.get("code")),
                     name_zh=_text(path, "programme.name_zh", head.get("name_zh")),
                     name_en=_text(path, "programme.name_en", head.get("name_en")),
                     citation_zh=_text(path, "programme.citation_zh", head.get("citation_zh")),
                     citation_en=_text(path, "programme.citation_en", head.get("citation_en")),
                     owner=owner, initial=initial, states=states, transitions=transitions,
                     form=form, criteria=criteria, attachments=attachments, path=path,
                     goals=goals,
                     assessment=parse_assessment(path.name, data.get("assessment"),
                                                 set(form.kind_keys), set(states),
                                                 goals.share_pct if goals else None),
                     reminders=parse_reminders(path.name, data.get("reminders"), set(states)),
                     notice=_notice(path, data.get("notice"), states),
                     quarterly=_quarterly(path, data.get("quarterly"), states),
                     papers_zh=papers[0], papers_en=papers[1], rounds=rounds,
                     authority=str(head["authority"]) if head.get("authority") else None)


def load(path: Path) -> Programme:
    """Read, check and compile one definition file."""
    source = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path.name}: not valid TOML: {exc}") from None
    found = parse(path, data)
    if found.quarterly is not None and found.quarterly.columns is None:
        raise _fail(path, "quarterly.columns", "the [[quarterly.columns]] tables are missing: "
                    "what does a base report each quarter?")
    _kinds_for_guards(path, found)
    shown = sorted(found.keys_where("public_notice"))
    if shown and found.notice is None:
        raise _fail(path, "notice", f"the [notice] table is missing: {', '.join(shown)} "
                    "put cases on the public notice, which must say what it is")
    return replace(found, source=source)


# guards that apply to some kinds of application only: the kind setting that says which
# (002 §六(三): a new base uses the quota; §五(一), §六(一): a re-certification names its base)
KIND_GUARDS = {"quota": "uses_quota", "existing_base": "names_base"}


def _kinds_for_guards(path: Path, p: Programme) -> None:
    """A guard of `KIND_GUARDS` a transition runs applies to some kind (else it would
    never refuse); a kind that `uses_quota` is recommended by some transition running
    `quota` (else the quota would never be counted). Checked when a file is loaded; a
    round opened before kinds said so takes the file's word (`frozen`)."""
    for t in p.transitions:
        for guard in t.guards:
            flag = KIND_GUARDS.get(guard)
            if flag is not None and not p.form.kinds_where(flag):
                raise _fail(path, f"transitions ({t.trigger}).guards", f"the guard {guard!r} "
                            f"applies to no kind: mark the kinds it applies to `{flag} = true` "
                            "in their [[form.kinds]] table")
    counted = any("quota" in t.guards for t in p.transitions)
    for i, k in enumerate(p.form.kinds):
        if k.uses_quota and not counted:
            raise _fail(path, f"form.kinds[{i}] ({k.key}).uses_quota", "no transition runs the "
                        "guard 'quota' (add it to the step that recommends, or leave the "
                        "setting out)")


def check_names(programme: Programme, guards: Iterable[str], effects: Iterable[str]) -> None:
    """Every guard and effect the file names is one the library has."""
    known_guards, known_effects = set(guards), set(effects)
    where = programme.path.name if programme.path else programme.code
    for t in programme.transitions:
        for g in t.guards:
            if g not in known_guards:
                raise DefinitionError(f"{where}: transitions ({t.trigger}).guards: unknown "
                                      f"guard {g!r} (one of {', '.join(sorted(known_guards))})")
        for e in t.effects:
            if e not in known_effects:
                raise DefinitionError(f"{where}: transitions ({t.trigger}).effects: unknown "
                                      f"effect {e!r} (one of {', '.join(sorted(known_effects))})")


DEFAULT_CODE = "mofcom-2006-6"
_loaded: dict[str, Programme] = {}  # the current definition of each programme, by code
_frozen: dict[str, Programme] = {}  # definitions as rounds opened with them, by sha256


def digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def path_of(code: str) -> Path:
    return PROGRAMMES_DIR / f"{code}.toml"


def programme(code: str = DEFAULT_CODE) -> Programme:
    """The programme `code` as its file says now (`programmes/<code>.toml`, or one
    `register`ed), loaded once per process."""
    global _known
    found = _loaded.get(code)
    if found is None:
        path = path_of(code)
        if not path.exists():
            raise DefinitionError(f"no programme {code!r} ({path} does not exist)")
        found = _loaded[code] = named_as_file(load(path), path)
        _known = None
        _frozen.setdefault(digest(path.read_text(encoding="utf-8")), found)
    return found


def named_as_file(p: Programme, path: Path) -> Programme:
    """`p`, loaded from `path`, if its code is the file's name (a round names its programme
    by code, and the engine reads programmes/<code>.toml)."""
    if p.code != path.stem:
        raise _fail(path, "programme.code", f"{p.code!r} is not the file's name: name the file "
                    f"{p.code}.toml (rounds find a programme's file by its code)")
    return p


def current_source(code: str) -> str:
    """The definition's text as it is now: what a round opening today freezes."""
    p = programme(code)
    if p.source is not None:
        return p.source
    return path_of(code).read_text(encoding="utf-8")


def frozen(source_hash: str, source: str | None = None) -> Programme:
    """The definition a round opened with (by its sha256; `source` compiles it on a
    process's first use)."""
    found = _frozen.get(source_hash)
    if found is None:
        if source is None:
            raise KeyError(source_hash)
        found = parse(Path(f"{source_hash[:12]}.toml"), tomllib.loads(source))
        if not found.attachments and path_of(found.code).exists():
            # a round opened before its attachment kinds were in the file: the file's now
            found = replace(found, attachments=programme(found.code).attachments)
        if path_of(found.code).exists() and not found.form.kinds_where("uses_quota"):
            # nor which kinds use the quota (notice 002's new bases): the file's kinds say
            now_kinds = {k.key: k for k in programme(found.code).form.kinds}
            found = replace(found, form=replace(found.form, kinds=tuple(
                replace(k, uses_quota=now_kinds[k.key].uses_quota) if k.key in now_kinds
                else k for k in found.form.kinds)))
        if path_of(found.code).exists():
            # nor its reminder table, notice wording, quarterly template, papers' rule or
            # re-evaluation rules: what the file says now
            now = programme(found.code)
            found = replace(
                found, reminders=found.reminders if found.reminders is not None
                else now.reminders, notice=found.notice or now.notice,
                quarterly=_with_columns(found.quarterly, now.quarterly),
                assessment=found.assessment or now.assessment,
                papers_zh=found.papers_zh or now.papers_zh,
                papers_en=found.papers_en or now.papers_en)
        _frozen[source_hash] = found
    return found


def _with_columns(then: QuarterlyTemplate | None, now: QuarterlyTemplate | None
                  ) -> QuarterlyTemplate | None:
    """A frozen round's quarterly template: its own, with the file's columns if it had none
    yet; the file's if it had no template."""
    if then is None:
        return now
    if then.columns is None and now is not None:
        return replace(then, columns=now.columns)
    return then


def register(p: Programme) -> Programme:
    """Make a programme known to this process under its code (a definition kept outside
    `programmes/`, e.g. a test's)."""
    global _known
    _loaded[p.code] = p
    _known = None
    if p.source is not None:
        _frozen[digest(p.source)] = p
    return p


def forget(code: str) -> None:
    """Make a `register`ed programme unknown again (a test's, once the test is over); its
    frozen definitions stay, as rounds opened with them do."""
    global _known
    if _loaded.pop(code, None) is not None:
        _known = None


def state_def(key: str) -> StateDef | None:
    """A state's definition by its key, from notice 002's programme first, then any other
    known one (labels for lists that mix programmes)."""
    for p in (programme(), *known()):
        if key in p.states:
            return p.states[key]
    return None


def transition_def(trigger: str) -> TransitionDef | None:
    """A transition's definition by its trigger (notice 002's programme first)."""
    for p in (programme(), *known()):
        if trigger in p.by_trigger:
            return p.by_trigger[trigger]
    return None


def kind_def(key: str) -> KindDef | None:
    """An application kind's definition (labels) by its key, notice 002's programme first."""
    for p in (programme(), *known()):
        found = p.form.kind(key)
        if found is not None:
            return found
    return None


def attachment_def(kind: str) -> AttachmentDef | None:
    """A kind of attachment by its key (labels): the system's, then notice 002's programme,
    then any other known one."""
    for a in SYSTEM_ATTACHMENTS:
        if a.kind == kind:
            return a
    for p in (programme(), *known()):
        found = p.attachment(kind)
        if found is not None:
            return found
    return None


def all_attachment_kinds() -> list[str]:
    """Every kind of attachment a user of some programme may add (the API's enum)."""
    return sorted({a.kind for p in known() for a in p.attachments})


def all_kinds() -> list[str]:
    """Every application kind some programme defines (API enums, filters)."""
    return sorted({k for p in known() for k in p.form.kind_keys})


_known: list[Programme] | None = None  # sorted by code; None: a programme was added


def known() -> list[Programme]:
    """Every programme: the files under `programmes/` (looked for once per process) and
    those registered. Labels and filters ask it on every row: it is a list, not a scan."""
    global _known
    if _known is None:
        for path in sorted(PROGRAMMES_DIR.glob("*.toml")):
            programme(path.stem)
        found = sorted(_loaded.values(), key=lambda p: p.code)
        same_words(found)
        _known = found
    return _known


def same_words(programmes: list[Programme]) -> None:
    """A kind of attachment or of application that several programmes define is one thing,
    labelled by its key wherever it is shown (`attachment_def`, `kind_def`): each must word
    it alike."""
    first: dict[tuple[str, str], tuple[Programme, tuple[str, str]]] = {}
    for p in programmes:
        where = p.path.name if p.path else p.code
        named = [(f"attachments[{i}] ({a.kind})", "attachment kind", a.kind, (a.zh, a.en))
                 for i, a in enumerate(p.attachments)]
        named += [(f"form.kinds[{i}] ({k.key})", "application kind", k.key, (k.zh, k.en))
                  for i, k in enumerate(p.form.kinds)]
        for at, what, key, words in named:
            other, said = first.setdefault((what, key), (p, words))
            if said != words:
                raise DefinitionError(
                    f"{where}: {at}: {other.code} words the {what} {key!r} "
                    f"“{said[0]}” / “{said[1]}”: one key is labelled alike everywhere — use "
                    "the same zh and en, or another key")


def reminder_kinds() -> dict[str, ReminderDef]:
    """Every kind of reminder some programme defines, by its key, notice 002's first (the
    outbox's filter and labels)."""
    out: dict[str, ReminderDef] = {}
    for p in (programme(), *known()):
        for r in p.reminder_table:
            out.setdefault(r.kind, r)
    return out
