"""requirements.lock (written by `make lock`, installed by `make run` and `make test` with
--require-hashes) satisfies pyproject.toml, and this environment is the locked one."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
                 r"(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")
STALE = "requirements.lock is stale: run `make lock` and commit it"


def _pins() -> dict[str, tuple[str, str | None, list[str]]]:
    """name -> (version, marker, hashes), from the lock's `name==version ; marker \\` entries."""
    pins: dict[str, tuple[str, str | None, list[str]]] = {}
    current: str | None = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith(" "):
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
            assert current is not None and hashes, f"unexpected line in the lock: {line!r}"
            pins[current][2].extend(hashes)
            continue
        m = PIN.match(line)
        assert m, f"not an exact pin: {line!r} (the lock holds only `name==version` entries)"
        current = canonicalize_name(m["name"])
        pins[current] = (m["version"], m["marker"], [])
    return pins


def _project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in [*project["dependencies"],
                                     *project["optional-dependencies"]["dev"]]]


def _applies(marker: str | None, extra: str = "") -> bool:
    from packaging.markers import Marker

    return marker is None or Marker(marker).evaluate({"extra": extra})


def test_every_requirement_of_pyproject_is_pinned_within_its_range() -> None:
    pins = _pins()
    wrong = []
    for req in _project_requirements():
        if not _applies(str(req.marker) if req.marker else None):
            continue
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            wrong.append(f"{req}: not in the lock")
        elif not req.specifier.contains(pin[0], prereleases=True):
            wrong.append(f"{req}: the lock pins {pin[0]}")
    assert not wrong, STALE + "\n" + "\n".join(wrong)


def test_the_extras_asked_for_are_locked_too() -> None:
    # celery[redis,sqlalchemy], psycopg[binary]: what each extra pulls in must be pinned,
    # as the locked release of the package declares it
    pins = _pins()
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
                if canonicalize_name(needed.name) not in pins:
                    missing.append(f"{needed.name} (for {req.name}[{extra}])")
                elif needed.extras:
                    todo.append(needed)
    assert seen and not missing, STALE + "\n" + "\n".join(missing)


def test_every_locked_release_carries_its_hashes() -> None:
    unhashed = [name for name, (_v, _m, hashes) in _pins().items() if not hashes]
    assert len(_pins()) > 50 and not unhashed, f"pins without a hash: {unhashed}"


def test_this_environment_is_the_locked_one() -> None:
    # `make test` installs from the lock before it runs the suite (the stamp depends on it)
    differ = []
    for name, (version, marker, _hashes) in _pins().items():
        if not _applies(marker):
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            differ.append(f"{name}: locked {version}, installed {installed}")
    assert not differ, "run `make install`:\n" + "\n".join(differ)
