"""`flask` commands: db upgrade/downgrade, seed-demo, check."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from config.settings import redact
from web.extensions import settings, uow

db_cli = AppGroup("db", help="Database migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    from workflow.storage.migrate import upgrade

    settings = current_app.config["SETTINGS"]
    upgrade(settings.database_url, revision, secret_key=settings.secret_key)
    click.echo(f"database at {revision}: {redact(current_app.config['DATABASE_URL'])}")


@db_cli.command("downgrade")
@click.argument("revision", default="base")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (default: base)."""
    from workflow.storage.migrate import downgrade

    settings = current_app.config["SETTINGS"]
    downgrade(settings.database_url, revision, secret_key=settings.secret_key)


@click.command("seed-demo")
def seed_demo() -> None:
    """Load demo data once (authorities, users, the 2006 round, ~30 applications)."""
    from workflow.services import demo

    created = demo.seed(uow(), settings())
    click.echo("demo data loaded" if created else "demo data already present; nothing changed")


@click.command("check")
def check() -> None:
    """Check that the database and broker answer; one line per problem, exit 1 if any."""
    from workflow.services import health

    settings = current_app.config["SETTINGS"]
    problems = []
    try:
        health.database_ok(uow())
    except Exception as exc:  # noqa: BLE001
        problems.append(f"DATABASE_URL ({redact(settings.database_url)}) is unreachable: "
                        f"{str(exc).splitlines()[0][:200]}")
    try:
        with current_app.extensions["celery"].connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"CELERY_BROKER_URL ({redact(settings.broker_url)}) is unreachable: "
                        f"{str(exc).splitlines()[0][:200]}")
    for p in problems:
        click.echo(p, err=True)
    if problems:
        sys.exit(1)
    click.echo("database and broker reachable")


calendar_cli = AppGroup("calendar", help="The holiday calendar for years the package lacks.")


@calendar_cli.command("set-day")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["workday", "holiday"]))
@click.option("--note", default=None, help="e.g. 春节 or 调休")
@click.option("--as-user", "username", default="sysadmin", show_default=True)
def calendar_set_day(day: object, kind: str, note: str | None, username: str) -> None:
    """Declare DAY a working day or a holiday."""
    from workflow.services import calendar_admin

    calendar_admin.set_day(uow(), _user_id(username), day.date(), kind == "workday", note)  # type: ignore[attr-defined]
    click.echo(f"{day:%Y-%m-%d}: {kind}")


@calendar_cli.command("confirm-year")
@click.argument("year", type=int)
@click.option("--as-user", "username", default="sysadmin", show_default=True)
def calendar_confirm_year(year: int, username: str) -> None:
    """Mark YEAR as entered in full."""
    from workflow.services import calendar_admin

    calendar_admin.confirm_year(uow(), _user_id(username), year)
    click.echo(f"{year}: confirmed")


def _user_id(username: str) -> int:
    from workflow.storage import users_repo

    with uow() as u:
        user = users_repo.user_by_username(u.session, username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        return user.id


@click.command("diagram")
def diagram() -> None:
    """Print docs/state-diagram.md, generated from the machine's table."""
    from workflow.diagram import markdown

    click.echo("# The case life cycle\n\nGenerated from the programme definition (`programmes/mofcom-2006-6.toml`) "
               "by `flask diagram > docs/state-diagram.md`;\n`tests/unit/test_diagram.py` fails "
               "when this file and the table disagree.\n\n" + markdown("en") + "\n## 中文\n\n"
               + markdown("zh"), nl=False)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(check)
    app.cli.add_command(diagram)
    app.cli.add_command(calendar_cli)
    from web.reminders_cli import reminders_cli
    from web.rounds_cli import rounds_cli

    app.cli.add_command(reminders_cli)
    app.cli.add_command(rounds_cli)
    from web.bases_cli import bases_cli

    app.cli.add_command(bases_cli)
    from web.authorities_cli import authorities_cli

    app.cli.add_command(authorities_cli)
    from web.programmes_cli import programmes_cli

    app.cli.add_command(programmes_cli)
