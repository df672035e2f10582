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

from enum import StrEnum

from workflow.programme import DEFINITION_ERROR_HINT, Programme, TransitionDef, programme
from workflow.register import BaseStatus

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


# A transition of notice 002's programme (its sources and destination are the states'
# keys: `State.DRAFTED in spec.sources` holds, StrEnum members being their strings).
TransitionSpec = TransitionDef
TRANSITIONS: tuple[TransitionSpec, ...] = PROGRAMME.transitions

BY_TRIGGER: dict[str, TransitionSpec] = PROGRAMME.by_trigger


def register_change(source: str, dest: str, p: Programme = PROGRAMME) -> BaseStatus | None:
    """The base's new status in the register when its case goes from `source` to `dest`
    (approval: designated), or None when the register does not change — the states'
    `register` in the programme's definition."""
    before, after = p.states[source].register, p.states[dest].register
    return BaseStatus(after) if after is not None and after != before else None


# The ministry's decisions that can change a base's entry in the register: each may
# name its document (文号), recorded with the entry's status.
DECISIONS = frozenset(t.trigger for t in TRANSITIONS
                      if any(register_change(s, t.dest) for s in t.sources))
SPINE = tuple(State(k) for k, d in PROGRAMME.states.items() if d.spine)
