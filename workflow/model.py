"""The case as the domain sees it: plain data, loaded and saved by `workflow.storage`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workflow.applicants import Drafter
from workflow.calendar import DEFAULT_CALENDAR, WorkCalendar
from workflow.programme import Programme, programme
from workflow.regions import Region
from workflow.register import ExistingBase
from workflow.roles import Actor
from workflow.rules import ReferenceStats, RoundRules


@dataclass
class Case:
    """An application (申报) and, once approved, the base it became."""

    id: int | None
    state: str  # a state of its programme (`State` names notice 002's)
    version: int
    kind: str  # new_base | recertification
    authority_code: str  # the authority that drafted it: a province-level one or a city
    region: Region  # the authority's region (a city's own class, else its province's)
    # the register holds a base of the province (or its cities) not revoked (002 §六(三))
    authority_has_bases: bool
    round_year: int
    owner_id: int  # the applicant account that drafted it
    values: dict[str, Any] = field(default_factory=dict)  # the 申报书 fields
    products: list[dict[str, Any]] = field(default_factory=list)
    attachment_kinds: frozenset[str] = frozenset()
    attestations: dict[str, bool | None] = field(default_factory=dict)
    recommended_by_id: int | None = None
    reviewed_by_ids: frozenset[int] = frozenset()
    open_objections: int = 0
    notice_published_on: date | None = None
    notice_ends_on: date | None = None
    rectification_deadline: date | None = None
    programme: Programme = field(default_factory=programme)  # whose rules it runs by
    # a city's province-level authority, which reviews and recommends it (002 §六(三)), and
    # that province's region; None for a province-level authority's own case
    parent_code: str | None = None
    parent_region: Region | None = None
    # the drafting authority's names, and a city's province's: who organises the materials
    # (002 §六(三): a cluster's, its leading enterprise's city)
    authority_name_zh: str = ""
    authority_name_en: str = ""
    parent_name_zh: str = ""

    @property
    def drafter(self) -> Drafter:
        """The authority that drafted the case, as 002 §六(三) asks about it."""
        return Drafter(self.authority_code, self.authority_name_zh, self.authority_name_en,
                       self.parent_name_zh if self.parent_code is not None else None)

    @property
    def province_code(self) -> str:
        """The province-level authority whose reviewers and quota the case belongs to."""
        return self.parent_code or self.authority_code

    @property
    def locality_codes(self) -> tuple[str, ...]:
        """Whose statistics are 本地区's: the applicant's own authority, then its province
        (002 §六(二)(3))."""
        return (self.authority_code, self.parent_code) if self.parent_code else (
            self.authority_code,)

    @property
    def province_region(self) -> Region:
        """The province's region: the quota of 002 §六(三) depends on it, not on a city's
        own class."""
        return self.parent_region or self.region
    # a re-certification: the register entry it names, and the type its form says
    existing_base: ExistingBase | None = None
    existing_base_type: str | None = None
    # the criteria reviewers overrode on this case, and the steps taken after the round's
    # deadline (their triggers): the case's marks on lists and pages
    overridden_criteria: tuple[str, ...] = ()
    late_steps: tuple[str, ...] = ()


@dataclass
class Context:
    """What a guard may look at besides the case: who, when, the round, the calendar."""

    actor: Actor
    now: datetime
    rules: RoundRules
    calendar: WorkCalendar = field(default_factory=lambda: DEFAULT_CALENDAR)
    quota_used: int = 0  # this authority's other new-base recommendations in the round
    # another case re-certifying the same base, recommended or designated already
    # (counted under the authority's lock when recommending)
    base_claimed_by: int | None = None
    reason: str | None = None
    # why a reviewer acts on a case that fails a criterion (guard `failed_criteria`), and
    # why a step comes after the round's deadline (guard `late_reason`), 002 §六(三)
    override_reason: str | None = None
    late_reason: str | None = None
    rectification_deadline: date | None = None
    references: dict[int, ReferenceStats] = field(default_factory=dict)
    local_today: date | None = None  # today in Asia/Shanghai (set by the service)

    @property
    def today(self) -> date:
        return self.local_today or self.now.date()
