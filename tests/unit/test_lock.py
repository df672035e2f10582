"""requirements.lock (written by `make lock`, installed by `make run` and `make test` with
--require-hashes) satisfies pyproject.toml, and this environment is the locked one."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.lockfile import applies, pins

ROOT = Path(__file__).resolve().parents[2]
STALE = "requirements.lock is stale: run `make lock` and commit it"


def _project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in [*project["dependencies"],
                                     *project["optional-dependencies"]["dev"]]]


def test_every_requirement_of_pyproject_is_pinned_within_its_range() -> None:
    locked = pins()
    wrong = []
    for req in _project_requirements():
        if not applies(str(req.marker) if req.marker else None):
            continue
        pin = locked.get(canonicalize_name(req.name))
        if pin is None:
            wrong.append(f"{req}: not in the lock")
        elif not req.specifier.contains(pin[0], prereleases=True):
            wrong.append(f"{req}: the lock pins {pin[0]}")
    assert not wrong, STALE + "\n" + "\n".join(wrong)


def test_the_extras_asked_for_are_locked_too() -> None:
    # celery[redis,sqlalchemy], psycopg[binary]: what each extra pulls in must be pinned,
    # as the locked release of the package declares it
    locked = pins()
    todo = [r for r in _project_requirements() if r.extras]
    seen: set[tuple[str, str]] = set()
    missing = []
    while todo:
        req = todo.pop()
        dist = metadata.distribution(req.name)
        for extra in req.extras:
            if (canonicalize_name(req.name), extra) in seen:
                continue
            seen.add((canonicalize_name(req.name), extra))
            for spec in dist.requires or []:
                needed = Requirement(spec)
                if needed.marker is None or not needed.marker.evaluate({"extra": extra}):
                    continue
                if canonicalize_name(needed.name) not in locked:
                    missing.append(f"{needed.name} (for {req.name}[{extra}])")
                elif needed.extras:
                    todo.append(needed)
    assert seen and not missing, STALE + "\n" + "\n".join(missing)


def test_every_locked_release_carries_its_hashes() -> None:
    unhashed = [name for name, (_v, _m, hashes) in pins().items() if not hashes]
    assert len(pins()) > 50 and not unhashed, f"pins without a hash: {unhashed}"


def test_this_environment_is_the_locked_one() -> None:
    # `make test` installs from the lock before it runs the suite (the stamp depends on it)
    differ = []
    for name, (version, marker, _hashes) in pins().items():
        if not applies(marker):
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            differ.append(f"{name}: locked {version}, installed {installed}")
    assert not differ, "run `make install`:\n" + "\n".join(differ)
