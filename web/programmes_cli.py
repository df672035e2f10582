"""`flask programmes check [FILE…]`: a programme definition file checked as start-up checks
it — before it is put under programmes/, or the files there after an edit (docs/programmes.md
"Check the file")."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

programmes_cli = AppGroup("programmes", help="Programme definition files (programmes/*.toml).")


@programmes_cli.command("check", with_appcontext=False)
@click.argument("files", nargs=-1,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """Check FILES (default: every file under programmes/) as start-up does: one line each,
    naming the file, the key and what is wrong; exit 1 if any is refused."""
    from workflow.effects import EFFECTS
    from workflow.errors import DefinitionError
    from workflow.guards import GUARDS
    from workflow.programme import (
        PROGRAMMES_DIR,
        check_names,
        known,
        load,
        named_as_file,
        same_words,
    )

    refused = 0
    for path in files or tuple(sorted(PROGRAMMES_DIR.glob("*.toml"))):
        try:
            p = named_as_file(load(path), path)
            check_names(p, GUARDS, EFFECTS)
            # a kind it shares with the programmes the engine runs is worded alike
            same_words([*(k for k in known() if k.code != p.code), p])
        except DefinitionError as err:
            click.echo(f"refused  {err}", err=True)
            refused += 1
            continue
        click.echo(f"ok       {path.name}: {p.name_zh} / {p.name_en} — {len(p.states)} states, "
                   f"{len(p.transitions)} transitions, {len(p.form.fields)} form fields, "
                   f"{len(p.criteria)} criteria")
    if refused:
        sys.exit(1)
