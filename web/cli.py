"""`flask` commands: db upgrade/downgrade, seed-demo, check, calendar, authorities."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from config.settings import redact
from web.extensions import uow

db_cli = AppGroup("db", help="Database migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    from workflow.storage.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}: {redact(current_app.config['DATABASE_URL'])}")


@db_cli.command("downgrade")
@click.argument("revision", default="base")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (default: base)."""
    from workflow.storage.migrate import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)


@click.command("seed-demo")
def seed_demo() -> None:
    """Load demo data once (authorities, users, the 2006 round, ~30 applications)."""
    from workflow.services import demo

    created = demo.seed(uow())
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
        from tasks import celery_app

        with celery_app.connection_for_write() as conn:
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


authorities_cli = AppGroup("authorities", help="The tree of authorities: provinces and their "
                                               "prefecture-level cities.")


@authorities_cli.command("list")
@click.option("--province", default=None, help="only this province-level code and its cities")
@click.option("--as-user", "username", default="sysadmin", show_default=True)
def authorities_list(province: str | None, username: str) -> None:
    """Print the tree: code, name, region, status, cases and accounts (tab-separated)."""
    from workflow.services import authorities

    click.echo("\t".join(("code", "parent", "name_zh", "name_en", "kind", "region",
                          "status", "cases", "accounts")))
    for a in authorities.listing(uow(), _user_id(username)):
        if province and province not in (a.code, a.parent_code):
            continue
        region = a.region + ("*" if a.region_overridden else "")
        click.echo("\t".join((a.code, a.parent_code or "-", a.name_zh, a.name_en, a.kind,
                              region, "active" if a.is_active else "inactive",
                              str(a.cases), str(a.accounts))))


@authorities_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="check the list and say what it would do")
@click.option("--as-user", "username", default="sysadmin", show_default=True)
def authorities_import(file: str, dry_run: bool, username: str) -> None:
    """Import a list of cities from FILE (.xlsx or .csv: code, name, parent; optionally
    name_en, region). Nothing is stored if any row is wrong; each error names its row."""
    from pathlib import Path

    from workflow.errors import DomainError
    from workflow.services import authorities

    path = Path(file)
    data = path.read_bytes()
    limit = current_app.config["SETTINGS"].max_upload_mb * 1024 * 1024
    try:
        if dry_run:
            checked = authorities.check_list(uow(), _user_id(username), path.name, data, limit)
            if checked.errors:
                raise DomainError(*checked.errors)
            done = authorities.Imported([c.code for c in checked.new],
                                        [c.code for c in checked.changed],
                                        [c.code for c in checked.unchanged])
        else:
            done = authorities.import_list(uow(), _user_id(username), path.name, data, limit)
    except DomainError as err:
        for r in err.refusals:
            click.echo(f"{r.code}: {r.zh} | {r.en}", err=True)
        click.echo(f"nothing imported: {len(err.refusals)} error(s)", err=True)
        sys.exit(1)
    verb = "would create" if dry_run else "created"
    click.echo(f"{verb} {len(done.created)}, {'would update' if dry_run else 'updated'} "
               f"{len(done.updated)}, unchanged {len(done.unchanged)}")
    for code in done.created:
        click.echo(f"+ {code}")
    for code in done.updated:
        click.echo(f"~ {code}")


def _user_id(username: str) -> int:
    from workflow.storage import repo

    with uow() as u:
        user = repo.user_by_username(u.session, username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        return user.id


@click.command("diagram")
def diagram() -> None:
    """Print docs/state-diagram.md, generated from the machine's table."""
    from workflow.diagram import markdown

    click.echo("# The case life cycle\n\nGenerated from the machine's table (`workflow/states.py`) "
               "by `flask diagram > docs/state-diagram.md`;\n`tests/unit/test_diagram.py` fails "
               "when this file and the table disagree.\n\n" + markdown("en") + "\n## 中文\n\n"
               + markdown("zh"), nl=False)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(check)
    app.cli.add_command(diagram)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(authorities_cli)
    from web.reminders_cli import reminders_cli

    app.cli.add_command(reminders_cli)
