"""SQLAlchemy 2 typed mappings of every table. Money columns carry their unit in the name."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    literal_column,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from workflow.storage.types import JSONType, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 4)
Pct = Numeric(9, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType,
                           list[Any]: JSONType}


class AuthorityRow(Base):
    """A submitting authority (省级商务主管部门, one of the 37: `parent_id` None) or a
    prefecture-level city's commerce bureau under one of them (workflow.authorities)."""

    __tablename__ = "authorities"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    # the region the criteria use: a city's own class if `region_overridden`, else its
    # province's (kept in step by the service that writes cities)
    region: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"), index=True)
    region_overridden: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=false())
    # an inactive city starts no application and gets no new account; its cases stay
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    parent: Mapped[AuthorityRow | None] = relationship(remote_side=[id], lazy="joined",
                                                       join_depth=2)

    @property
    def province_id(self) -> int:
        """The province-level authority: a city's parent, else itself."""
        return self.parent_id or self.id

    @property
    def province(self) -> AuthorityRow:
        return self.parent or self

    @property
    def locality_codes(self) -> tuple[str, ...]:
        """Whose statistics are 本地区's: its own, then its province's (002 §六(二)(3))."""
        return (self.code, self.parent.code) if self.parent else (self.code,)

    @property
    def is_city(self) -> bool:
        return self.parent_id is not None

    @property
    def parent_code(self) -> str | None:
        return self.parent.code if self.parent else None


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30), index=True)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(200))
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)  # 处长/司领导: escalation target
    password_hash: Mapped[str] = mapped_column(String(255))
    password_history: Mapped[list[Any]] = mapped_column(default=list)
    password_changed_at: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh")
    mail_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    # events (transitions, mentions): in-app only (False) or in-app and by mail (True)
    notify_by_mail: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    totp_secret: Mapped[str | None] = mapped_column(String(200))  # sealed: storage/sealed.py
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # a code is accepted once
    # one-time recovery codes for a lost authenticator: argon2 hashes of those not yet used
    totp_recovery_codes: Mapped[list[Any]] = mapped_column(default=list,
                                                           server_default=text("'[]'"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    authority: Mapped[AuthorityRow | None] = relationship(lazy="joined")

    @property
    def authority_code(self) -> str | None:
        return self.authority.code if self.authority else None


class RoundRow(Base):
    """An application round (申报年度) with its criteria parameters and calendar."""

    __tablename__ = "rounds"
    # one round a year per programme: 002's 2027 round and a province's own are two
    __table_args__ = (UniqueConstraint("programme", "year", name="uq_rounds_programme_year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # planned (neither), open from opened_on, closed from closed_on (RoundStatus)
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    # the programme it runs (programmes/<code>.toml) and, from its opening, the definition
    # as it was then (a case never changes rules mid-round); None: follows the file
    programme: Mapped[str] = mapped_column(String(60), default="mofcom-2006-6",
                                           server_default="mofcom-2006-6", index=True)
    programme_source: Mapped[str | None] = mapped_column(Text)
    programme_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplicationRow(Base):
    """An application (申报书) and, once approved, the base it became."""

    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_applications_state_authority", "state", "authority_id"),
        Index("ix_applications_round_state", "round_id", "state"),
        Index("ix_applications_due", "due_on", "id"),
        Index("ix_applications_next_reminder", "next_reminder_on", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    # the authority that drafted it (a city's bureau, or a province for its own): its
    # drafter and, for a city, the city's applicant accounts see it; its province's
    # reviewers once it is submitted (scope_repo.in_scope)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # new_base | recertification
    industry_field: Mapped[str | None] = mapped_column(String(30))
    existing_base_type: Mapped[str | None] = mapped_column(String(30))
    # a re-certification: the national base it names from the register (002 §五(一))
    existing_base_id: Mapped[int | None] = mapped_column(
        ForeignKey("export_bases.id", use_alter=True, ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(30), default="drafted")
    version: Mapped[int] = mapped_column(Integer, default=1)
    due_on: Mapped[date | None] = mapped_column(Date)  # the date the current step is due
    # the next day the reminder scan must look at this case (None: nothing to remind of);
    # set to today whenever the case changes, moved on by the scan (workflow.reminders)
    next_reminder_on: Mapped[date | None] = mapped_column(Date)
    # the case's name: the form's `applicant_name`, kept as a column (lists, search, register)
    applicant_name: Mapped[str | None] = mapped_column(String(200), index=True)
    # the rest of the 申报书 as its programme's form defines it: one document, keyed by
    # field name, values as the form encodes them (workflow.form.FormDef.encode / decode)
    form: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    # reviewer attestations (criteria confirmed by a person), name -> bool
    attestations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recommended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    notice_published_on: Mapped[date | None] = mapped_column(Date)
    notice_ends_on: Mapped[date | None] = mapped_column(Date)
    rectification_deadline: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the criteria reviewers overrode (002 §六; the reasons are in the history) and the
    # steps taken after the round's deadline (002 §六(三)): the case's marks on lists
    overridden_criteria: Mapped[list[Any] | None] = mapped_column(JSONType)
    late_steps: Mapped[list[Any] | None] = mapped_column(JSONType)

    # optimistic concurrency: every UPDATE says "WHERE version = <the version I read>"
    __mapper_args__ = {"version_id_col": version}

    products: Mapped[list[ProductRow]] = relationship(
        order_by="ProductRow.position", cascade="all, delete-orphan", lazy="selectin")
    authority: Mapped[AuthorityRow] = relationship(lazy="joined")
    round: Mapped[RoundRow] = relationship(lazy="joined")

    @property
    def province_id(self) -> int:
        """The province-level authority that reviews it (a city's province, 002 §六(三))."""
        return self.authority.province_id

    @property
    def parent_code(self) -> str | None:
        """A city's case: its province's code; None for a province-level authority's."""
        return self.authority.parent.code if self.authority.parent else None


NO_DUE_DATE = date(9999, 12, 31)  # where a case with no due date sorts: after every dated one


def due_sort_key() -> Any:
    """The inbox's default order, by due date, cases with none last (never NULL, so a
    keyset page can compare it). The date is written into the SQL so the statement and
    the index below are the same expression: a page of the ministry's every case reads
    the index instead of sorting all of them."""
    return func.coalesce(ApplicationRow.due_on, literal_column(f"'{NO_DUE_DATE.isoformat()}'", Date))


Index("ix_applications_due_sort", due_sort_key(), ApplicationRow.id)


class ExportBaseRow(Base):
    """出口基地名录: a national 高新技术产品 / 医药 / 软件 export base (imported), or an export
    innovation base this system designated (entered on approval: `application_id`)."""

    __tablename__ = "export_bases"
    __table_args__ = (
        # "has existing bases" (002 §六(三)) is one probe of this index per transition
        Index("ix_export_bases_authority_status", "authority_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    name: Mapped[str] = mapped_column(String(200))
    base_type: Mapped[str] = mapped_column(String(20))  # workflow.register.BaseType
    designation_document: Mapped[str | None] = mapped_column(String(100))  # 认定文号
    designated_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="designated")  # BaseStatus
    status_since: Mapped[date] = mapped_column(Date)
    # designated by this system: its case, its field (new base) or the base it re-certified
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id"), unique=True)
    industry_field: Mapped[str | None] = mapped_column(String(30))
    recertifies_id: Mapped[int | None] = mapped_column(ForeignKey("export_bases.id"))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the designation decision (授牌) that designated it, when this system approved it
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("designation_decisions.id"),
                                                    index=True)

    authority: Mapped[AuthorityRow] = relationship(lazy="joined")


class DesignationDecisionRow(Base):
    """The ministry's designation decision (授牌, 002 §六(三) 核准): one per round and day of
    approval, numbered per year, covering every base approved in that round that day."""

    __tablename__ = "designation_decisions"
    __table_args__ = (
        UniqueConstraint("year", "number", name="uq_designation_decisions_number"),
        UniqueConstraint("round_id", "issued_on", name="uq_designation_decisions_day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(String(100))  # 文号, e.g. 商技函〔2006〕1号
    issued_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportBaseEventRow(Base):
    """A base's status over time: each change, when it took effect, by which decision
    (an import, or the ministry's transition of the base's case) and document."""

    __tablename__ = "export_base_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    base_id: Mapped[int] = mapped_column(ForeignKey("export_bases.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(40))  # import | approve | revoke | …
    document: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"),
                                                      index=True)
    history_id: Mapped[int | None] = mapped_column(ForeignKey("transition_history.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProductRow(Base):
    """主要出口产品: one row per product, any number of rows."""

    __tablename__ = "application_products"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    exports_10k_usd: Mapped[Decimal | None] = mapped_column(Money)


class AttachmentRow(Base):
    """A stored file; the bytes live outside the web root under `stored_name`."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)


class HistoryRow(Base):
    """One transition: who, on whose behalf, when, from, to, why, and what it saw."""

    __tablename__ = "transition_history"
    # (application_id, version) also serves every lookup by case: no index of its own
    __table_args__ = (UniqueConstraint("application_id", "version", name="uq_history_version"),
                      # the notifier's sweep reads the recent transitions (events.sweep)
                      Index("ix_transition_history_at", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    version: Mapped[int] = mapped_column(Integer)  # the case's version after this step
    trigger: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(30))
    actor_name: Mapped[str] = mapped_column(String(100))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_name: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    eligibility: Mapped[list[Any]] = mapped_column(default=list)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ObjectionRow(Base):
    """异议 filed by the public during the notice."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    confirmation_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    ip: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open|upheld|dismissed
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeputyRow(Base):
    """A reviewer's deputy for a date range (out of office)."""

    __tablename__ = "deputies"
    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxRow(Base):
    """A message to send; the unique key makes a reminder impossible to write twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))  # case|recipient|kind|due date
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[date | None] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(10), default="zh")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # pending → sending → sent | failed (retried) | dead; held → digested (daily digest);
    # cancelled (its reason went away before it was sent)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # indexed: each deleted or folded row is looked up by it (SQLite's foreign-key check
    # scans the whole outbox per row otherwise)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # the obligations a catch-up mail names ([{"kind", "due_on"}]); None: just kind/due_on
    about: Mapped[list[Any] | None] = mapped_column(JSONType)


class NotificationRow(Base):
    """In-app notification; mirrors every mail."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"),
                                                      index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class QuarterlyReportRow(Base):
    """A base's quarterly data (每季度上报); re-uploading adds a revision, keeps history."""

    __tablename__ = "quarterly_reports"
    __table_args__ = (
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
        Index("ix_quarterly_base_period", "application_id", "year", "quarter"),
        UniqueConstraint("application_id", "year", "quarter", "revision",
                         name="uq_quarterly_revision"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    # the base's figures as its programme's `[[quarterly.columns]]` define them: one
    # document keyed by column, decimals as their exact text, counts as numbers, nothing
    # for an empty figure (workflow.quarterly_data.stored_figures / read_figures)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    enterprises: Mapped[list[Any]] = mapped_column(default=list)  # key enterprises' rows
    source: Mapped[str] = mapped_column(String(20), default="form")  # form | excel | api
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnualReportRow(Base):
    """年度工作报告 and next year's plan, due 31 December (002 §四(四))."""

    __tablename__ = "annual_reports"
    __table_args__ = (Index("ix_annual_base_year", "application_id", "year"),
                      UniqueConstraint("application_id", "year", "revision",
                                       name="uq_annual_revision"))
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    year: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[str] = mapped_column(Text)
    next_year_plan: Mapped[str] = mapped_column(Text)
    # structured summary the assessment reads: 002 §六(一)(1)(2), §六(二)(1)
    policies_in_force: Mapped[bool | None] = mapped_column(Boolean)
    project_funding_10k_cny: Mapped[Decimal | None] = mapped_column(Money)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferenceStatRow(Base):
    """Ministry-entered statistics per year that the criteria compare against."""

    __tablename__ = "reference_statistics"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    national_hightech_exports_100m_usd: Mapped[Decimal | None] = mapped_column(Money)
    national_hightech_growth_pct: Mapped[Decimal | None] = mapped_column(Pct)
    region_export_growth_pct: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LocalityStatRow(Base):
    """One authority's own export growth of one year (本地区外贸出口增幅, 002 §六(二)(3)),
    with who compiled it and against which catalogue."""

    __tablename__ = "locality_statistics"
    __table_args__ = (UniqueConstraint("authority_id", "year",
                                       name="uq_locality_statistics_authority_year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    export_growth_pct: Mapped[Decimal] = mapped_column(Pct)
    source: Mapped[str] = mapped_column(String(200))
    catalogue: Mapped[str] = mapped_column(String(10))  # national | local
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    authority: Mapped[AuthorityRow] = relationship(lazy="joined")


class EvaluationRunRow(Base):
    __tablename__ = "evaluation_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[int] = mapped_column(Integer, index=True)  # the year assessed
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EvaluationRow(Base):
    """One base's assessment for one period: the proposal and its explanation."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("application_id", "period", name="uq_evaluation_period"),
                      Index("ix_evaluations_period_status", "period", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    period: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_runs.id"))
    proposal: Mapped[str] = mapped_column(String(20))  # keep | rectify | revoke
    findings: Mapped[list[Any]] = mapped_column(default=list)
    indicators: Mapped[dict[str, Any]] = mapped_column(default=dict)
    explanation_zh: Mapped[str] = mapped_column(Text, default="")
    explanation_en: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="proposed")  # proposed|confirmed
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditRow(Base):
    """Append-only audit record; `hash` chains it to the previous record."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # each chain is walked in id order; a chain can never fork (one record per prev)
        Index("ix_audit_log_chain_id", "chain", "id"),
        UniqueConstraint("chain", "prev_hash", name="uq_audit_log_chain_prev"),
        # the auditor's search pages newest first within an event (keyset on id)
        Index("ix_audit_log_event_id", "event", "id"),
        # a time range over an append-only log: rows arrive in `at` order, so a BRIN
        # index (a few pages for millions of rows, next to nothing per insert) finds it
        Index("ix_audit_log_at", "at", postgresql_using="brin",
              postgresql_with={"autosummarize": "on"}),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # which hash chain: "application:<id>" for a case's actions, "system" for the rest
    chain: Mapped[str] = mapped_column(String(80), default="system", server_default="system")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    utc_offset: Mapped[str | None] = mapped_column(String(6))  # of the local time, "+08:00"
    actor_name: Mapped[str | None] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(30))
    on_behalf_of_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LoginFailureRow(Base):
    """Consecutive failed logins per (user name, client IP): the lockout counter."""

    __tablename__ = "login_failures"
    __table_args__ = (UniqueConstraint("username", "ip", name="uq_login_failures_username_ip"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiTokenRow(Base):
    """A personal API token; only its hash is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    # read | read_write: a read-only token may only GET (issue 7)
    scope: Mapped[str] = mapped_column(String(20), default="read_write",
                                       server_default="read_write")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class CalendarDayRow(Base):
    """Admin-entered working day / holiday, for years the calendar package lacks."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(100))


class CalendarYearRow(Base):
    """A year an admin has entered in full (its deadlines are then trusted)."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SettingRow(Base):
    """Security and operations settings an admin may change (key → JSON value)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class HeartbeatRow(Base):
    """Liveness of beat and workers, written by a periodic task (works on every broker)."""

    __tablename__ = "heartbeats"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LockRow(Base):
    """A named lease (scheduler, assessment) for brokers/databases without advisory locks."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]


class WebhookRow(Base):
    """A URL told when cases change state (issue 7): one authority's cases, or all (None)."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))  # sealed: storage/sealed.py
    # every transition_history row up to here is queued (or out of scope)
    last_history_id: Mapped[int] = mapped_column(Integer, default=0)
    # the history's max id seen at `mark_at`: once no transaction can still be writing
    # below it, the cursor may move up to it (services.webhooks._advance)
    mark_id: Mapped[int] = mapped_column(Integer, default=0)
    mark_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    authority: Mapped[AuthorityRow | None] = relationship(lazy="joined")


class WebhookDeliveryRow(Base):
    """One transition to POST to one webhook; the unique key queues it once."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "history_id",
                         name="uq_webhook_deliveries_subscription_history"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    history_id: Mapped[int] = mapped_column(ForeignKey("transition_history.id"))
    # pending → sending → delivered | failed (retried) | dead; cancelled (webhook deleted)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class TransitionNoticeRow(Base):
    """A transition whose people have been notified (in-app and by mail): the history row
    is the event, written with the transition; this marks it handled (issue 17, item 2)."""

    __tablename__ = "transition_notices"
    history_id: Mapped[int] = mapped_column(ForeignKey("transition_history.id"),
                                            primary_key=True)
    notified: Mapped[int] = mapped_column(Integer, default=0)  # people told
    done_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssignmentRow(Base):
    """Who works a case now (认领/指派): one reviewer of the role whose turn it is. It holds
    while the case waits on that role; a case that moves on to another role is free."""

    __tablename__ = "assignments"
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"),
                                                primary_key=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentRow(Base):
    """A comment on a case: an internal note between reviewers, or a remark to the
    applicant (optionally on one field of the form)."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_application", "application_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(100))
    author_role: Mapped[str] = mapped_column(String(30))
    visibility: Mapped[str] = mapped_column(String(20))  # internal | applicant
    field: Mapped[str | None] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[Any]] = mapped_column(default=list)  # user ids
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def form_value(name: str, kind: str = "money", label: bool = True) -> Any:
    """A field of the stored form document as a typed SQL expression (JSONB `->>` on
    PostgreSQL, JSON_EXTRACT on SQLite), labelled with its name: for sums and lists."""
    item = ApplicationRow.form[name]
    if kind == "money":
        expr = item.as_numeric(18, 4)
    elif kind == "pct":
        expr = item.as_numeric(9, 2)
    elif kind == "int":
        expr = item.as_integer()
    else:
        expr = item.as_string()
    return expr.label(name) if label else expr


def quarter_figure(name: str, kind: str = "money", label: bool = True) -> Any:
    """A base's figure in its quarterly report's document as a typed SQL expression (as
    `form_value`): for the re-evaluation's sums."""
    item = QuarterlyReportRow.figures[name]
    expr = item.as_integer() if kind == "int" else item.as_numeric(18, 4)
    return expr.label(name) if label else expr


class CaseReportRow(Base):
    """An ad hoc report on a base (重要信息报送): an important development or a problem,
    filed by the base, its province or the ministry, kept with the case (002 §四(四),
    §六(三))."""

    __tablename__ = "case_reports"
    __table_args__ = (Index("ix_case_reports_application", "application_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(100))
    author_role: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20))  # development | problem
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProvincialAssessmentRow(Base):
    """A province's periodic assessment of the bases in its scope, reported to the ministry
    with its findings and a suggestion per base (002 §六(三): 地方…动态跟踪、定期评估和报告);
    the ministry decides. A new submission for the same period is a new revision."""

    __tablename__ = "provincial_assessments"
    __table_args__ = (UniqueConstraint("period", "authority_id", "revision",
                                       name="uq_provincial_assessment_revision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[int] = mapped_column(Integer)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_by_name: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    summary: Mapped[str] = mapped_column(Text)
    # [{"application_id", "name", "suggestion": keep|rectify|revoke, "findings"}]
    items: Mapped[list[Any]] = mapped_column(default=list)


class SavedFilterRow(Base):
    """A user's own named inbox view (issue 17): the filters, search and order of the
    inbox as its query arguments, shown to that user only."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_filters_user_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormReturnRow(Base):
    """A refused form's typing and errors, kept for the page its browser is redirected to
    (post/redirect/get, issue 17): shown once by that GET, then deleted; expires unseen.
    Kept here rather than in the signed-cookie session, which holds 4 KB at most."""

    __tablename__ = "form_returns"
    __table_args__ = (UniqueConstraint("user_id", "session_id", "form",
                                       name="uq_form_returns_user_session_form"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(String(40))
    form: Mapped[str] = mapped_column(String(80))  # e.g. application:new, application:42
    shown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
