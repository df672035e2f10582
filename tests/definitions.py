"""A programme file as the tests edit it: its parsed TOML, the error a broken copy is
refused with at load (workflow/programme.py `parse`), and the test programmes under
tests/programmes/ made known to the engine as start-up makes the files under programmes/."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from workflow.effects import EFFECTS
from workflow.guards import GUARDS
from workflow.programme import (
    PROGRAMMES_DIR,
    DefinitionError,
    Programme,
    check_names,
    forget,
    load,
    parse,
    register,
)

TEST_PROGRAMMES = Path(__file__).resolve().parent / "programmes"


def definition(code: str = "mofcom-2006-6") -> dict[str, Any]:
    """The parsed definition file of a shipped programme (notice 002's unless named), or of
    a test programme under tests/programmes/."""
    path = PROGRAMMES_DIR / f"{code}.toml"
    if not path.exists():
        path = TEST_PROGRAMMES / f"{code}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def refused(data: dict[str, Any], names: bool = False) -> str:
    """The error loading `data` as broken.toml raises (with `names`: also its guards and
    effects checked against the library)."""
    with pytest.raises(DefinitionError) as err:
        loaded = parse(Path("broken.toml"), data)
        if names:
            check_names(loaded, GUARDS, EFFECTS)
    return str(err.value)


@contextmanager
def registered(code: str) -> Iterator[Programme]:
    """The test programme tests/programmes/<code>.toml, loaded, checked and known to the
    engine (as start-up loads a file under programmes/) until the block ends: the pages of
    later tests do not list it."""
    p = load(TEST_PROGRAMMES / f"{code}.toml")
    check_names(p, GUARDS, EFFECTS)
    register(p)
    try:
        yield p
    finally:
        forget(code)
