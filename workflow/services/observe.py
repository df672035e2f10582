"""Instrumentation in the open: a service says what it does with `@observed(...)`, and
whoever watches (the metrics of the web and of the worker) registers an observer.

    @observed("transition", subject="trigger")
    def fire(uow, user_id, app_id, trigger, ...): ...

Every call of `fire`, from a page, the API, a Celery task or another service, is then
reported to each observer with its outcome: "ok", or the code of the `DomainError` it
raised (its first refusal's code when it has refusals). Other exceptions are reported
as "error" and raised unchanged. An observer that fails is logged, never raised: a broken
metric must not refuse a reviewer's decision.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from workflow.errors import DomainError

P = ParamSpec("P")
R = TypeVar("R")
OK = "ok"
ERROR = "error"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """One observed call: what it was, about what, how it ended and how long it took."""

    operation: str
    subject: str
    outcome: str
    seconds: float


Observer = Callable[[Call], None]
_observers: list[Observer] = []


def add_observer(observer: Observer) -> None:
    """Hear every observed call from now on (adding the same observer twice adds it once)."""
    if observer not in _observers:
        _observers.append(observer)


def remove_observer(observer: Observer) -> None:
    if observer in _observers:
        _observers.remove(observer)


def outcome_of(err: BaseException) -> str:
    """The outcome an exception reports: a refusal's stable code, else "error"."""
    if isinstance(err, DomainError):
        return err.refusals[0].code if err.refusals else err.code
    return ERROR


def observed(operation: str, subject: str | None = None
             ) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Report every call of the decorated service to the observers; `subject` names the
    parameter whose value says what the call was about (e.g. the trigger fired)."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        names = list(inspect.signature(func).parameters)
        position = names.index(subject) if subject is not None else -1

        def subject_of(args: tuple[object, ...], kwargs: dict[str, object]) -> str:
            if subject is None:
                return ""
            value = args[position] if position < len(args) else kwargs.get(subject, "?")
            return value if isinstance(value, str) else "?"

        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            except BaseException as err:
                _report(operation, subject_of(args, kwargs), outcome_of(err), started)
                raise
            _report(operation, subject_of(args, kwargs), OK, started)
            return result

        return run

    return decorate


def _report(operation: str, subject: str, outcome: str, started: float) -> None:
    if not _observers:
        return
    call = Call(operation, subject, outcome, time.perf_counter() - started)
    for observer in _observers:
        try:
            observer(call)
        except Exception:  # noqa: BLE001 - see the module's docstring
            _log.exception("observer %r failed on %s", observer, operation)
