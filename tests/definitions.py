"""A programme file as the tests edit it: its parsed TOML, and the error a broken copy is
refused with at load (workflow/programme.py `parse`)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from workflow.effects import EFFECTS
from workflow.guards import GUARDS
from workflow.programme import PROGRAMMES_DIR, DefinitionError, check_names, parse


def definition(code: str = "mofcom-2006-6") -> dict[str, Any]:
    """The parsed definition file of a shipped programme (notice 002's unless named)."""
    return tomllib.loads((PROGRAMMES_DIR / f"{code}.toml").read_text(encoding="utf-8"))


def refused(data: dict[str, Any], names: bool = False) -> str:
    """The error loading `data` as broken.toml raises (with `names`: also its guards and
    effects checked against the library)."""
    with pytest.raises(DefinitionError) as err:
        loaded = parse(Path("broken.toml"), data)
        if names:
            check_names(loaded, GUARDS, EFFECTS)
    return str(err.value)
