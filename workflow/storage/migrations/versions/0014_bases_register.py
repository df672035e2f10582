"""The register of export bases (出口基地名录) replaces the has-existing-bases flag.

- export_bases: each national 高新技术产品 / 医药 / 软件 export base (imported) and each export
  innovation base this system designated (its case: application_id), with its authority,
  type, designation document and date, and its current status.
- export_base_events: each base's status over time (the date, the decision, its document).
- applications.existing_base_id: the base a re-certification names (002 §五(一)).
- authorities.has_existing_bases goes: "has existing bases" (002 §六(三)) is read from the
  register. Only the demo seeder ever set the flag; after upgrading, import the register
  of national bases (docs/register.md).
- Bases approved before this revision enter the register from their cases' history: the
  approval, then each rectification, keep after rectification and revocation.

Revision ID: 0014
Revises: 0012
"""
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import workflow.storage.types

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

CHINA = timedelta(hours=8)  # the day a decision took effect is its day in Beijing
# status after each transition that changes a base's entry (workflow.states.REGISTER_STATUS)
STATUS_AFTER = {"approve": "designated", "order_rectification": "rectifying",
                "keep_designation": "designated", "revoke": "revoked"}


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, workflow.storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "export_bases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("base_type", sa.String(length=20), nullable=False),
        sa.Column("designation_document", sa.String(length=100), nullable=True),
        sa.Column("designated_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("industry_field", sa.String(length=30), nullable=True),
        sa.Column("recertifies_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(["authority_id"], ["authorities.id"],
                                name=op.f("fk_export_bases_authority_id_authorities")),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_export_bases_application_id_applications")),
        sa.ForeignKeyConstraint(["recertifies_id"], ["export_bases.id"],
                                name=op.f("fk_export_bases_recertifies_id_export_bases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_bases")),
        sa.UniqueConstraint("application_id", name=op.f("uq_export_bases_application_id")),
    )
    op.create_index("ix_export_bases_authority_status", "export_bases",
                    ["authority_id", "status"])
    op.create_table(
        "export_base_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(length=40), nullable=False),
        sa.Column("document", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("history_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        _at("recorded_at"),
        sa.ForeignKeyConstraint(["base_id"], ["export_bases.id"],
                                name=op.f("fk_export_base_events_base_id_export_bases")),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_export_base_events_application_id_applications")),
        sa.ForeignKeyConstraint(
            ["history_id"], ["transition_history.id"],
            name=op.f("fk_export_base_events_history_id_transition_history")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_export_base_events_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_base_events")),
    )
    op.create_index(op.f("ix_export_base_events_base_id"), "export_base_events", ["base_id"])
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("existing_base_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_applications_existing_base_id_export_bases"),
                                 "export_bases", ["existing_base_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index(op.f("ix_applications_existing_base_id"), ["existing_base_id"])
    _enter_approved_bases()
    with op.batch_alter_table("authorities") as batch:
        batch.drop_column("has_existing_bases")


def _day(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment.astimezone(UTC) + CHINA).date()


def _enter_approved_bases() -> None:
    """Every base approved so far, with its status over time, from its case's history."""
    conn = op.get_bind()
    at_type = workflow.storage.types.UTCDateTime(timezone=True)
    history = sa.table("transition_history", sa.column("id"), sa.column("application_id"),
                       sa.column("trigger"), sa.column("from_state"), sa.column("to_state"),
                       sa.column("actor_id"), sa.column("reason"), sa.column("at", at_type))
    apps = sa.table("applications", sa.column("id"), sa.column("authority_id"),
                    sa.column("kind"), sa.column("industry_field"),
                    sa.column("applicant_name"))
    bases = sa.table("export_bases", *(sa.column(c) for c in (
        "id", "authority_id", "name", "base_type", "designated_on", "status", "status_since",
        "application_id", "industry_field")), sa.column("created_at", at_type),
        sa.column("updated_at", at_type))
    events = sa.table("export_base_events", *(sa.column(c) for c in (
        "base_id", "status", "effective_on", "decision", "reason", "application_id",
        "history_id", "recorded_by_id")), sa.column("recorded_at", at_type))
    steps = conn.execute(
        sa.select(history.c.id, history.c.application_id, history.c.trigger,
                  history.c.from_state, history.c.to_state, history.c.actor_id,
                  history.c.reason, history.c.at)
        .where(history.c.trigger.in_(list(STATUS_AFTER)))
        .order_by(history.c.application_id, history.c.id)).all()
    now = datetime.now(UTC)
    entered: dict[int, tuple[int, str]] = {}  # application -> (base, status)
    for hid, app_id, trigger, _source, _dest, actor, reason, at in steps:
        status = STATUS_AFTER[trigger]
        day = _day(at)
        if trigger == "approve":
            app = conn.execute(sa.select(apps).where(apps.c.id == app_id)).one()
            base_id = conn.execute(bases.insert().values(
                authority_id=app.authority_id, name=app.applicant_name or f"#{app_id}",
                base_type="innovation", designated_on=day, status=status, status_since=day,
                application_id=app_id,
                industry_field=app.industry_field if app.kind == "new_base" else None,
                created_at=now, updated_at=now).returning(bases.c.id)).scalar_one()
        elif app_id in entered and entered[app_id][1] != status:
            base_id = entered[app_id][0]
            conn.execute(bases.update().where(bases.c.id == base_id).values(
                status=status, status_since=day, updated_at=now))
        else:
            continue  # kept while designated: the register does not change
        entered[app_id] = (base_id, status)
        conn.execute(events.insert().values(
            base_id=base_id, status=status, effective_on=day, decision=trigger, reason=reason,
            application_id=app_id, history_id=hid, recorded_by_id=actor, recorded_at=now))


def downgrade() -> None:
    with op.batch_alter_table("authorities") as batch:
        batch.add_column(sa.Column("has_existing_bases", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.execute("UPDATE authorities SET has_existing_bases = EXISTS (SELECT 1 FROM export_bases "
               "b WHERE b.authority_id = authorities.id AND b.status <> 'revoked')")
    with op.batch_alter_table("authorities") as batch:
        batch.alter_column("has_existing_bases", server_default=None)
    with op.batch_alter_table("applications") as batch:
        batch.drop_index(op.f("ix_applications_existing_base_id"))
        batch.drop_constraint(op.f("fk_applications_existing_base_id_export_bases"),
                              type_="foreignkey")
        batch.drop_column("existing_base_id")
    op.drop_index(op.f("ix_export_base_events_base_id"), table_name="export_base_events")
    op.drop_table("export_base_events")
    op.drop_index("ix_export_bases_authority_status", table_name="export_bases")
    op.drop_table("export_bases")
