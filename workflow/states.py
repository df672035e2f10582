"""The case life cycle as data: states and the transitions between them.

One table shared by every case (DOMAIN.md "The process"; 002 §六(三)). The machine in
`workflow.machine` is built from it with ``auto_transitions=False`` so nothing can jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflow.register import BaseStatus
from workflow.roles import Role


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
        return STATE_ZH[self]

    @property
    def en(self) -> str:
        return self.value.replace("_", " ")


STATE_ZH = {
    State.DRAFTED: "草稿",
    State.PROVINCIALLY_REVIEWED: "省级审核中",
    State.RECOMMENDED: "已推荐",
    State.PUBLICLY_SHOWN: "公示中",
    State.APPROVED: "已核准",
    State.RE_EVALUATED: "复评保留",
    State.RECTIFYING: "限期整改",
    State.REVOKED: "已撤销",
    State.DECLINED: "不予推荐",
    State.REJECTED: "不予核准",
    State.OBJECTION_UPHELD: "异议成立",
    State.WITHDRAWN: "已撤回",
}

TERMINAL = frozenset(
    {State.REVOKED, State.DECLINED, State.REJECTED, State.OBJECTION_UPHELD, State.WITHDRAWN}
)
# States in which a case is a designated base (counts towards the programme goals).
DESIGNATED = frozenset({State.APPROVED, State.RE_EVALUATED, State.RECTIFYING})
# States in which a new-base application uses up its province's quota.
# 002 §六(三): the quota limits what a province recommends to the ministry.
USES_QUOTA = frozenset(
    {State.RECOMMENDED, State.PUBLICLY_SHOWN, State.APPROVED, State.RE_EVALUATED, State.RECTIFYING}
)
# What a base's entry in the register of bases (workflow.register) says in each state of
# its case: approval enters it, and a transition to a state with another status changes
# it, with the date and the decision, in the same transaction.
REGISTER_STATUS = {
    State.APPROVED: BaseStatus.DESIGNATED,
    State.RE_EVALUATED: BaseStatus.DESIGNATED,
    State.RECTIFYING: BaseStatus.RECTIFYING,
    State.REVOKED: BaseStatus.REVOKED,
}


@dataclass(frozen=True)
class TransitionSpec:
    """One row of the table: a named trigger from some states to one state, and its guards."""

    trigger: str
    sources: tuple[State, ...]
    dest: State
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()
    reason_required: bool = False
    zh: str = ""
    en: str = ""


A, P, M = Role.APPLICANT, Role.PROVINCIAL_REVIEWER, Role.MINISTRY_REVIEWER
S = State

TRANSITIONS: tuple[TransitionSpec, ...] = (
    TransitionSpec("submit", (S.DRAFTED,), S.PROVINCIALLY_REVIEWED, frozenset({A}),
                   ("scope", "complete_form", "required_attachments", "existing_base"),
                   zh="提交至省级商务主管部门", en="Submit to the province"),
    TransitionSpec("withdraw", (S.DRAFTED, S.PROVINCIALLY_REVIEWED), S.WITHDRAWN, frozenset({A}),
                   ("scope",), reason_required=True, zh="撤回申报", en="Withdraw"),
    TransitionSpec("return_for_revision", (S.PROVINCIALLY_REVIEWED,), S.DRAFTED, frozenset({P}),
                   ("scope", "not_the_drafter"), reason_required=True,
                   zh="退回修改", en="Return for revision"),
    TransitionSpec("decline", (S.PROVINCIALLY_REVIEWED,), S.DECLINED, frozenset({P}),
                   ("scope", "not_the_drafter"), reason_required=True,
                   zh="不予推荐", en="Decline"),
    TransitionSpec("recommend", (S.PROVINCIALLY_REVIEWED,), S.RECOMMENDED, frozenset({P}),
                   ("scope", "not_the_drafter", "complete_form", "recommendation_letter",
                    "existing_base", "quota", "blocking_criteria"),
                   zh="推荐至商务部", en="Recommend to the ministry"),
    TransitionSpec("publish_notice", (S.RECOMMENDED,), S.PUBLICLY_SHOWN, frozenset({M}),
                   ("scope", "calendar_known"), zh="网上公示", en="Publish the public notice"),
    TransitionSpec("reject", (S.RECOMMENDED, S.PUBLICLY_SHOWN), S.REJECTED, frozenset({M}),
                   ("scope",), reason_required=True, zh="不予核准", en="Reject"),
    TransitionSpec("uphold_objection", (S.PUBLICLY_SHOWN,), S.OBJECTION_UPHELD, frozenset({M}),
                   ("scope", "has_open_objection"), reason_required=True,
                   zh="异议成立", en="Uphold an objection"),
    TransitionSpec("approve", (S.PUBLICLY_SHOWN,), S.APPROVED, frozenset({M}),
                   ("scope", "not_the_recommender", "notice_elapsed", "no_open_objection",
                    "existing_base"),
                   zh="核准", en="Approve"),
    TransitionSpec("keep_designation", (S.APPROVED, S.RE_EVALUATED, S.RECTIFYING), S.RE_EVALUATED,
                   frozenset({M}), ("scope",), zh="复评保留", en="Keep after re-evaluation"),
    TransitionSpec("order_rectification", (S.APPROVED, S.RE_EVALUATED), S.RECTIFYING,
                   frozenset({M}), ("scope", "rectification_deadline"), reason_required=True,
                   zh="限期整改", en="Order rectification by a deadline"),
    TransitionSpec("continue_rectification", (S.RECTIFYING,), S.RECTIFYING, frozenset({M}),
                   ("scope",), reason_required=True,
                   zh="继续限期整改", en="Continue the rectification"),
    TransitionSpec("revoke", (S.APPROVED, S.RE_EVALUATED, S.RECTIFYING), S.REVOKED,
                   frozenset({M}), ("scope",), reason_required=True,
                   zh="撤销基地资格", en="Revoke the designation"),
)

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
SPINE = (S.DRAFTED, S.PROVINCIALLY_REVIEWED, S.RECOMMENDED, S.PUBLICLY_SHOWN, S.APPROVED,
         S.RE_EVALUATED)
