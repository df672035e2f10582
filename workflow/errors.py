"""Domain errors: a stable code, a field where one is at fault, and words in Chinese and English."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass
class Refusal:
    """One reason why something may not happen (a failed guard, a bad field)."""

    code: str
    zh: str
    en: str
    field: str | None = None
    guard: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message_zh": self.zh, "message_en": self.en}
        if self.field:
            out["field"] = self.field
        if self.guard:
            out["guard"] = self.guard
        if self.details:
            out["details"] = self.details
        return out

    def message(self, locale: str = "zh") -> str:
        return self.en if locale.startswith("en") else self.zh


class DefinitionError(Exception):
    """A programme file is wrong; the message names the file, the key and what."""


class DomainError(Exception):
    """Base class of every refusal the domain raises; carries one or more `Refusal`s."""

    code = "domain_error"
    status = 422

    def __init__(self, *refusals: Refusal) -> None:
        self.refusals = list(refusals)
        super().__init__("; ".join(f"{r.code}: {r.en}" for r in refusals))

    @property
    def first(self) -> Refusal:
        return self.refusals[0]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "errors": [r.as_dict() for r in self.refusals]}


class ValidationFailed(DomainError):
    """Input does not have the required shape or range (field-level)."""

    code = "validation_error"


class GuardFailed(DomainError):
    """A transition's guard said no."""

    code = "guard_failed"

    def __init__(self, *refusals: Refusal) -> None:
        super().__init__(*refusals)
        # quota_exceeded is its own stable code so clients can tell it apart
        if any(r.code == "quota_exceeded" for r in refusals):
            self.code = "quota_exceeded"


class InvalidTrigger(DomainError):
    """The trigger does not exist or is not allowed from the current state."""

    code = "invalid_trigger"


class VersionConflict(DomainError):
    """Someone else changed the case since the caller read it."""

    code = "version_conflict"
    status = 409


class WrongStatus(DomainError):
    """The object's status does not allow this now (e.g. changing a round once it opened)."""

    code = "wrong_status"
    status = 409


class NotFound(DomainError):
    """The object does not exist or is outside the caller's scope (never tell which)."""

    code = "not_found"
    status = 404


class Forbidden(DomainError):
    """The caller's role may never do this."""

    code = "forbidden"
    status = 403


class CalendarMissing(DomainError):
    """A working-day computation reached a year with no official calendar data."""

    code = "calendar_missing"


def refuse(code: str, zh: str, en: str, **kw: Any) -> Refusal:
    """Shorthand to build a `Refusal`."""
    return Refusal(code=code, zh=zh, en=en, **kw)
