"""The pins of requirements.lock (written by `make lock`), for the tests that rely on them."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

LOCK = Path(__file__).resolve().parents[1] / "requirements.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
                 r"(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def pins() -> dict[str, tuple[str, str | None, list[str]]]:
    """name -> (version, marker, hashes), from the lock's `name==version ; marker \\` entries."""
    found: dict[str, tuple[str, str | None, list[str]]] = {}
    current: str | None = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith(" "):
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
            assert current is not None and hashes, f"unexpected line in the lock: {line!r}"
            found[current][2].extend(hashes)
            continue
        m = PIN.match(line)
        assert m, f"not an exact pin: {line!r} (the lock holds only `name==version` entries)"
        current = canonicalize_name(m["name"])
        found[current] = (m["version"], m["marker"], [])
    return found


def applies(marker: str | None, extra: str = "") -> bool:
    """Does a pin's environment marker hold here?"""
    return marker is None or Marker(marker).evaluate({"extra": extra})


def locked_version(name: str) -> str:
    """The version the lock pins for `name`."""
    return pins()[canonicalize_name(name)][0]
