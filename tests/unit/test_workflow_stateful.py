"""Random triggers by random actors for thousands of steps; the invariants always hold.

The model plays the part of the service layer in memory (no database): it keeps cases,
their history and the clock, and fires through the real shared machine and guards.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.unit.test_guards import COMPLETE
from workflow import machine
from workflow.calendar import WorkCalendar
from workflow.errors import DomainError
from workflow.model import Case, Context
from workflow.regions import BY_CODE
from workflow.register import ExistingBase
from workflow.roles import Actor, Role
from workflow.rules import RoundRules
from workflow.states import BY_TRIGGER, TRANSITIONS, USES_QUOTA, State

CAL = WorkCalendar()
FIRED: Counter[str] = Counter()
REFUSED: Counter[tuple[str, str]] = Counter()
FORWARD = ("submit", "recommend", "publish_notice", "approve", "keep_designation")
RULES = RoundRules()
AUTHORITIES = {"440000": True, "420000": True, "430000": False, "510000": True, "210000": True}
# the register: one national base of each authority that has bases (none for Hunan)
BASES = {code: ExistingBase(i, f"{code} 国家高新技术产品出口基地", "hightech", "designated", code)
         for i, (code, has) in enumerate(AUTHORITIES.items(), start=1) if has}
# new bases each may recommend, written out (002 §六(三)), not asked of RoundRules.quota_for
QUOTA = {
    "440000": 0,  # Guangdong: east, has bases
    "420000": 1,  # Hubei: central, has bases
    "430000": 1,  # Hunan: no base yet
    "510000": 1,  # Sichuan: west, has bases
    "210000": 1,  # Liaoning: northeast, has bases (the round's interpretation: as central)
}
ACTORS = (
    [Actor(100 + i, Role.APPLICANT, code) for i, code in enumerate(AUTHORITIES)]
    + [Actor(200 + i, Role.PROVINCIAL_REVIEWER, code) for i, code in enumerate(AUTHORITIES)]
    + [Actor(300, Role.MINISTRY_REVIEWER), Actor(301, Role.MINISTRY_REVIEWER),
       Actor(400, Role.SYSTEM_ADMIN), Actor(401, Role.AUDITOR)]
)


@dataclass
class Step:
    trigger: str
    source: State
    dest: State
    actor: Actor
    today: date
    notice_ends_on: date | None


class Workflow(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.cases: list[Case] = []
        self.history: dict[int, list[Step]] = {}
        self.today = date(2006, 3, 1)

    @rule(owner=st.integers(0, len(AUTHORITIES) - 1), new_base=st.booleans())
    def draft(self, owner: int, new_base: bool) -> None:
        actor = ACTORS[owner]
        code = actor.authority_code
        assert code is not None
        self.cases.append(Case(
            id=len(self.cases) + 1, state=State.DRAFTED, version=1,
            kind="new_base" if new_base else "recertification", authority_code=code,
            region=BY_CODE[code].region, authority_has_bases=AUTHORITIES[code], round_year=2006,
            owner_id=actor.user_id, values=dict(COMPLETE),
            existing_base=None if new_base else BASES.get(code),
            products=[{"name": "p", "exports_10k_usd": Decimal(1)}],
            attachment_kinds=frozenset({"application_form", "development_plan",
                                        "recommendation_letter"})))
        self.history[len(self.cases)] = []

    @rule(days=st.integers(1, 10))
    def time_passes(self, days: int) -> None:
        self.today = CAL.add_working_days(self.today, days)

    @rule(pick=st.integers(0, 10_000))
    def advance(self, pick: int) -> None:
        """Push a case along the spine with the right person (guards may still refuse)."""
        if not self.cases:
            return
        case = self.cases[pick % len(self.cases)]
        nxt = [t for t in FORWARD if case.state in BY_TRIGGER[t].sources]
        if not nxt:
            return
        spec = BY_TRIGGER[nxt[0]]
        if case.state == State.PUBLICLY_SHOWN:  # let the notice run out; the ministry
            case.open_objections = 0            # has dismissed what was filed meanwhile
            if case.notice_ends_on is not None and self.today <= case.notice_ends_on:
                self.today = CAL.add_working_days(case.notice_ends_on, 1)
        actor = next(a for a in ACTORS if a.role in spec.roles
                     and (a.role is not Role.PROVINCIAL_REVIEWER
                          or a.authority_code == case.authority_code)
                     and (a.role is not Role.APPLICANT or a.user_id == case.owner_id)
                     and a.user_id != case.recommended_by_id)
        self._fire(case, spec.trigger, actor, None)

    @rule(pick=st.integers(0, 10_000), data=st.data(),
          reason=st.sampled_from([None, "", "理由"]), objection=st.booleans())
    def fire(self, pick: int, data: st.DataObject, reason: str | None, objection: bool) -> None:
        if not self.cases:
            return
        case = self.cases[pick % len(self.cases)]
        # mostly triggers that exist from this state, fired by someone of the right role,
        # so walks get deep; sometimes anything by anyone, so refusals are exercised too
        fitting = sorted((t.trigger for t in TRANSITIONS if case.state in t.sources),
                         key=lambda t: (t not in FORWARD, t))  # hypothesis favours the first
        trigger = data.draw(st.sampled_from(fitting) if fitting and data.draw(
            st.integers(0, 3)) != 3 else st.sampled_from(sorted(BY_TRIGGER)))
        right = [a for a in ACTORS if a.role in BY_TRIGGER[trigger].roles
                 and (a.role is not Role.PROVINCIAL_REVIEWER
                      or a.authority_code == case.authority_code)
                 and (a.role is not Role.APPLICANT or a.user_id == case.owner_id)]
        actor = data.draw(st.sampled_from(right) if right and data.draw(
            st.integers(0, 3)) != 3 else st.sampled_from(ACTORS))
        if case.state == State.PUBLICLY_SHOWN and objection:
            case.open_objections = 1 - case.open_objections  # filed or dismissed meanwhile
        self._fire(case, trigger, actor, reason)

    def _fire(self, case: Case, trigger: str, actor: Actor, reason: str | None) -> None:
        used = sum(1 for c in self.cases if c is not case and c.kind == "new_base"
                   and c.authority_code == case.authority_code and c.state in USES_QUOTA)
        claimed = next((c.id for c in self.cases if c is not case and c.existing_base
                        and c.existing_base == case.existing_base and c.state in USES_QUOTA),
                       None)
        ctx = Context(actor=actor, now=datetime.combine(self.today, time(2), UTC), rules=RULES,
                      calendar=CAL, quota_used=used, base_claimed_by=claimed, reason=reason,
                      late_reason=reason, override_reason=reason,  # given or not, as drawn
                      local_today=self.today,
                      rectification_deadline=self.today + timedelta(days=90))
        before = case.state
        try:
            out = machine.fire(case, trigger, ctx)
        except DomainError as err:
            REFUSED[(trigger, err.first.code)] += 1
            assert case.state == before  # a refusal changes nothing
            return
        if trigger == "publish_notice":
            case.notice_published_on = self.today
            case.notice_ends_on = CAL.add_working_days(self.today, RULES.notice_working_days)
        if trigger == "recommend":
            case.recommended_by_id = actor.user_id
        case.version += 1
        FIRED[trigger] += 1
        self.history[case.id].append(Step(trigger, out.source, out.dest, actor, self.today,
                                          case.notice_ends_on))

    @invariant()
    def replaying_history_gives_the_current_state(self) -> None:
        for case in getattr(self, "cases", []):
            state = State.DRAFTED
            for step in self.history[case.id]:
                assert step.source == state
                state = step.dest
            assert state is case.state
            assert case.version == 1 + len(self.history[case.id])

    @invariant()
    def nothing_is_approved_without_a_complete_notice(self) -> None:
        for case in getattr(self, "cases", []):
            steps = self.history[case.id]
            for i, step in enumerate(steps):
                if step.trigger == "approve":
                    published = [s for s in steps[:i] if s.trigger == "publish_notice"]
                    assert published, "approved without a public notice"
                    assert step.notice_ends_on is not None and step.today > step.notice_ends_on

    @invariant()
    def quotas_are_never_exceeded(self) -> None:
        for code, allowed in QUOTA.items():
            n = sum(1 for c in getattr(self, "cases", []) if c.authority_code == code
                    and c.kind == "new_base" and c.state in USES_QUOTA)
            assert n <= allowed

    @invariant()
    def a_re_certification_without_a_base_never_leaves_its_draft(self) -> None:
        # 002 §五(一), §六(一): Hunan has no base in the register, so it re-certifies nothing
        for case in getattr(self, "cases", []):
            if case.kind == "recertification" and case.existing_base is None:
                assert case.state in (State.DRAFTED, State.WITHDRAWN)

    @invariant()
    def each_base_is_re_certified_by_one_case_at_most(self) -> None:
        taken = [c.existing_base for c in getattr(self, "cases", [])
                 if c.existing_base is not None and c.state in USES_QUOTA]
        assert len(taken) == len(set(taken))

    @invariant()
    def only_permitted_actors_moved_a_case(self) -> None:
        for case in getattr(self, "cases", []):
            for step in self.history[case.id]:
                spec = BY_TRIGGER[step.trigger]
                assert step.actor.role in spec.roles
                assert not step.actor.role.is_admin
                if step.actor.role is Role.PROVINCIAL_REVIEWER:
                    assert step.actor.authority_code == case.authority_code
                if step.actor.role is Role.APPLICANT:
                    assert step.actor.user_id == case.owner_id

    @invariant()
    def the_shared_machine_keeps_no_case(self) -> None:
        assert machine.MACHINE.models == []


WALKS = settings(max_examples=60, stateful_step_count=150, deadline=None, derandomize=True)


def test_random_walks_keep_every_invariant_and_go_all_the_way_through_the_life_cycle() -> None:
    FIRED.clear()
    REFUSED.clear()
    run_state_machine_as_test(Workflow, settings=WALKS)
    # the walks must have reached the late states, or the invariants proved little
    for trigger in ("submit", "recommend", "publish_notice", "approve"):
        assert FIRED[trigger] > 0, f"{trigger} never fired: {dict(FIRED)} {dict(REFUSED)}"
    assert ("recommend", "quota_exceeded") in REFUSED, "no walk ever reached a quota"
    assert ("submit", "existing_base_required") in REFUSED, "no walk re-certified without a base"


def test_every_trigger_is_reachable_in_the_table() -> None:
    reachable = {State.DRAFTED}
    changed = True
    while changed:
        changed = False
        for spec in TRANSITIONS:
            if reachable & set(spec.sources) and spec.dest not in reachable:
                reachable.add(spec.dest)
                changed = True
    assert reachable == set(State)
