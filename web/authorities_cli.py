"""`flask authorities …`: the tree of authorities — list it, import a list of cities."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from web.extensions import uow
from workflow.errors import DomainError

authorities_cli = AppGroup("authorities", help="The tree of authorities: provinces and their "
                                               "prefecture-level cities.")


@authorities_cli.command("list")
@click.option("--province", default=None, help="only this province-level code and its cities")
@click.option("--as-user", "username", default="sysadmin", show_default=True)
def authorities_list(province: str | None, username: str) -> None:
    """Print the tree: code, name, region, status, cases and accounts (tab-separated)."""
    from web.cli import _user_id
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
    from web.cli import _user_id
    from workflow.services import authorities

    path = Path(file)
    data = path.read_bytes()
    limit = current_app.config["SETTINGS"].max_upload_mb * 1024 * 1024
    use = authorities.check_list if dry_run else authorities.import_list
    try:
        done = use(uow(), _user_id(username), path.name, data, limit)
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
