"""`flask bases …`: import the register of national export bases, list the register."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from web.extensions import uow
from workflow.errors import DomainError
from workflow.register import BaseStatus, BaseType

bases_cli = AppGroup("bases", help="The register of export bases (出口基地名录).")


@bases_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-user", "username", required=True,
              help="the ministry reviewer the import is recorded under (audit log, history)")
def import_command(file: Path, username: str) -> None:
    """Import national bases from FILE (.xlsx or .csv): every row or none."""
    from web.cli import _user_id
    from workflow.services import bases

    limit = int(current_app.config["SETTINGS"].max_upload_mb) * 1024 * 1024
    try:
        done = bases.import_file(uow(), _user_id(username), file.name, file.read_bytes(), limit)
    except DomainError as err:
        for r in err.refusals:
            click.echo(f"{r.field or '-'}: {r.code}: {r.zh}", err=True)
        raise click.ClickException(f"nothing imported: {len(err.refusals)} error(s)") from None
    click.echo(f"imported {done.rows} row(s): {done.added} added, {done.updated} updated, "
               f"{done.unchanged} unchanged")


@bases_cli.command("list")
@click.option("--authority", help="GB/T 2260 code, e.g. 420000")
@click.option("--type", "base_type", type=click.Choice([t.value for t in BaseType]))
@click.option("--status", type=click.Choice([s.value for s in BaseStatus]))
@click.option("--json", "as_json", is_flag=True, help="one JSON object a line")
def list_command(authority: str | None, base_type: str | None, status: str | None,
                 as_json: bool) -> None:
    """Print the register (every authority: the operator at the console reads it all)."""
    from workflow.services import bases

    try:
        entries = bases.listing(uow(), None, authority=authority, base_type=base_type,
                                status=status)
    except DomainError as err:
        raise click.ClickException(err.first.en) from None
    for e in entries:
        r = e.row
        fields = {"id": r.id, "authority": r.authority.code, "name": r.name,
                  "type": r.base_type, "designation_document": r.designation_document,
                  "designated_on": r.designated_on.isoformat(), "status": r.status,
                  "status_since": r.status_since.isoformat(),
                  "application_id": r.application_id}
        if as_json:
            click.echo(json.dumps(fields, ensure_ascii=False))
        else:
            click.echo("\t".join("" if v is None else str(v) for v in fields.values()))
