"""The case life cycle of notice 002's programme, as the engine uses it.

Everything a state means and every transition's row come from the programme's definition
file, `programmes/mofcom-2006-6.toml` (loaded and checked by `workflow.programme`): the
labels, whose turn it is, the deadline, whether it is a base or uses the quota, the
register status, the guards and the effects. This module only names the states for code
that must (`State.DRAFTED`) and gives the table the shapes the machine and the diagram use;
a start-up check keeps the names and the file in step. Other programmes' states are plain
strings (`workflow.programme.Programme`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflow.programme import DEFINITION_ERROR_HINT, programme
from workflow.register import BaseStatus
from workflow.roles import Role

PROGRAMME = programme()  # 商技发[2006]6号


class State(StrEnum):
    DRAFTED = "drafted"  # 草稿
    PROVINCIALLY_REVIEWED = "provincially_reviewed"  # 省级审核中
    RECOMMENDED = "recommended"  # 已推荐至商务部
    PUBLICLY_SHOWN = "publicly_shown"  # 网上公示中
    APPROVED = "approved"  # 已核准
    RE_EVALUATED = "re_evaluated"  # 复评保留
    RECTIFYING = "rectifying"  # 限期整改
    REVOKED = "revoked"  # 已撤销
    DECLINED = "declined"  # 省级不予推荐
    REJECTED = "rejected"  # 商务部不予核准
    OBJECTION_UPHELD = "objection_upheld"  # 异议成立
    WITHDRAWN = "withdrawn"  # 已撤回

    @property
    def zh(self) -> str:
        return PROGRAMME.state(self.value).zh

    @property
    def en(self) -> str:
        return PROGRAMME.state(self.value).en


if {s.value for s in State} != set(PROGRAMME.states):  # names and file in step
    raise RuntimeError(f"workflow.states.State and {PROGRAMME.path} disagree: "
                       f"{sorted({s.value for s in State} ^ set(PROGRAMME.states))} "
                       f"({DEFINITION_ERROR_HINT})")

STATE_ZH = {s: s.zh for s in State}
TERMINAL = frozenset(State(k) for k in PROGRAMME.terminal)
# States in which a case is a designated base (counts towards the programme goals).
DESIGNATED = frozenset(State(k) for k in PROGRAMME.designated)
# States in which a new-base application uses up its province's quota (002 §六(三)).
USES_QUOTA = frozenset(State(k) for k in PROGRAMME.uses_quota)
# What a base's entry in the register of bases (workflow.register) says in each state of
# its case: approval enters it, and a transition to a state with another status changes
# it, with the date and the decision, in the same transaction.
REGISTER_STATUS = {State(k): BaseStatus(d.register) for k, d in PROGRAMME.states.items()
                   if d.register}


@dataclass(frozen=True)
class TransitionSpec:
    """One row of the table: a named trigger from some states to one state, its guards and
    effects (`workflow.programme.TransitionDef` with the 002 states named)."""

    trigger: str
    sources: tuple[State, ...]
    dest: State
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()
    reason_required: bool = False
    zh: str = ""
    en: str = ""
    effects: tuple[str, ...] = ()
    locks: str | None = None


TRANSITIONS: tuple[TransitionSpec, ...] = tuple(
    TransitionSpec(t.trigger, tuple(State(x) for x in t.sources), State(t.dest), t.roles,
                   t.guards, t.reason_required, t.zh, t.en, t.effects, t.locks)
    for t in PROGRAMME.transitions)

BY_TRIGGER: dict[str, TransitionSpec] = {t.trigger: t for t in TRANSITIONS}


def register_change(source: State, dest: State) -> BaseStatus | None:
    """The base's new status in the register when its case goes from `source` to `dest`
    (approval: designated), or None when the register does not change."""
    after = REGISTER_STATUS.get(dest)
    return after if after is not None and after != REGISTER_STATUS.get(source) else None


# The ministry's decisions that can change a base's entry in the register: each may
# name its document (文号), recorded with the entry's status.
DECISIONS = frozenset(t.trigger for t in TRANSITIONS
                      if any(register_change(s, t.dest) for s in t.sources))
SPINE = tuple(State(k) for k, d in PROGRAMME.states.items() if d.spine)
