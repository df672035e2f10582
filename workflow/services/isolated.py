"""Run a parser in a child process under a time and a memory limit.

A web worker that parses an uploaded file itself cannot stop the parse: a slow one holds
the worker until gunicorn kills it, a greedy one takes the host's memory. Here the parse
runs in a fresh interpreter (`python -I`, our own `sys.path`), which is killed when its time
is up; the worker only waits. Starting it costs about 0.15 s, paid per upload.
"""

from __future__ import annotations

import pickle
import resource
import subprocess
import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any, TypeVar

T = TypeVar("T")

# the child reads its job (sys.path, function, arguments, memory) from stdin
_BOOT = ("import pickle, sys; job = pickle.load(sys.stdin.buffer); sys.path[:] = job[0]; "
         "from workflow.services.isolated import child_main; child_main(job)")


class TimeLimitExceeded(Exception):
    """The child did not answer in time and was killed."""


class MemoryLimitExceeded(Exception):
    """The child ran out of the memory it was allowed, or died without answering."""


def call(fn: Callable[..., T], *args: Any, seconds: float, memory_bytes: int) -> T:
    """`fn(*args)` in a child process: its result, or the exception it raised;
    `TimeLimitExceeded` after `seconds`, `MemoryLimitExceeded` past `memory_bytes`.
    `fn` is a module-level function; its arguments and result must pickle. The arguments
    are pickled apart, read once the child has our `sys.path` (they may be our classes)."""
    job = pickle.dumps((list(sys.path), f"{fn.__module__}:{fn.__qualname__}",
                        pickle.dumps(args), memory_bytes))
    with subprocess.Popen([sys.executable, "-I", "-c", _BOOT], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        try:
            out, err = child.communicate(job, timeout=seconds)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise TimeLimitExceeded(f"{fn.__qualname__} took over {seconds} s") from None
    if child.returncode != 0 or not out:
        raise MemoryLimitExceeded(f"the child ended with {child.returncode} without answering: "
                                  f"{err.decode(errors='replace')[-300:]}")
    outcome, value = pickle.loads(out)
    if outcome == "memory":
        raise MemoryLimitExceeded(f"over {memory_bytes} bytes")
    if outcome == "raised":
        raise value
    return value  # type: ignore[no-any-return]


def child_main(job: tuple[list[str], str, bytes, int]) -> None:
    """In the child: cap the address space, run the function, write the outcome."""
    _, target, pickled, memory_bytes = job
    args = pickle.loads(pickled)  # noqa: S301 - our own parent's job, on our stdin
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    module, name = target.split(":")
    try:
        answer: tuple[str, Any] = ("ok", getattr(import_module(module), name)(*args))
    except MemoryError:
        answer = ("memory", None)
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
        answer = ("raised", exc)
    try:
        out = pickle.dumps(answer)
    except MemoryError:
        out = pickle.dumps(("memory", None))
    except Exception as exc:  # noqa: BLE001 - e.g. an exception that does not pickle
        out = pickle.dumps(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
