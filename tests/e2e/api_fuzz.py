"""Schemathesis against the live API: a real server thread, a real (seeded) database, a
personal token for every role, and the contract's own checks.

    .venv/bin/python -m tests.e2e.api_fuzz --examples 40          # the full run (docs/api.md)
    .venv/bin/python -m tests.e2e.api_fuzz --examples 3 --seed 1  # what `make test` runs

Exit status 0 means: no server error, and every response matched the contract (status
code, content type, headers, body schema). The JSON summary is printed last.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ROLES = {  # demo user per role; None: no token at all (the public)
    "ministry_reviewer": "mofcom_reviewer",
    "provincial_reviewer": "hubei_reviewer",
    "applicant": "hubei_applicant",
    "system_admin": "sysadmin",
    "security_admin": "secadmin",
    "auditor": "auditor",
    "public": None,
}
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")


@contextmanager
def live_server(database_url: str, instance: Path) -> Iterator[str]:
    """The real app (create_app) served by werkzeug in a thread; yields its base URL."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    from config import for_tests
    from web import create_app

    app = create_app({"RATELIMIT_ENABLED": False},
                     settings=for_tests(instance, database_url=database_url))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def seed(database_url: str, instance: Path) -> dict[str, str]:
    """Migrate, load the demo data, and give every role a personal token."""
    from config import for_tests
    from workflow.services import demo, tokens
    from workflow.storage import users_repo
    from workflow.storage.migrate import upgrade
    from workflow.storage.uow import UnitOfWork

    upgrade(database_url)
    demo.seed(UnitOfWork(database_url), for_tests(instance, database_url=database_url))
    with UnitOfWork(database_url) as u:
        ids = users_repo.user_ids(u.session)
    return {role: tokens.create(UnitOfWork(database_url), ids[user], f"fuzz {role}").token
            for role, user in ROLES.items() if user}


def run(base_url: str, bearer: dict[str, str], examples: int, seed_value: int | None,
        workers: int, report_dir: Path, phases: str = "examples,coverage,fuzzing"
        ) -> dict[str, Any]:
    """One schemathesis run per role, all roles at once; the totals and any failures."""
    totals: dict[str, Any] = {"cases": 0, "failures": 0, "errors": 0, "roles": {}}
    exe = str(Path(sys.executable).with_name("schemathesis"))
    report_dir.mkdir(parents=True, exist_ok=True)
    procs = {}
    started = time.monotonic()
    for role in ROLES:
        report = report_dir / f"{role}.json"
        cmd = [exe, "run", f"{base_url}/api/v1/openapi.json", "--checks", CHECKS,
               "--max-examples", str(examples), "--workers", str(workers),
               "--suppress-health-check", "all", "--no-shrink",
               "--phases", phases, "--request-timeout", "30",
               "--report", "json", "--report-json-path", str(report)]
        if seed_value is not None:
            cmd += ["--seed", str(seed_value)]
        if role in bearer:
            cmd += ["--header", f"Authorization: Bearer {bearer[role]}"]
        log = open(report.with_suffix(".txt"), "w")  # noqa: SIM115 - closed below
        procs[role] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT),
                       log, report)
    for role, (proc, log, report) in procs.items():
        proc.wait()
        log.close()
        summary = _summary(report, proc.returncode)
        totals["roles"][role] = summary
        for key in ("cases", "failures", "errors"):
            totals[key] += summary[key]
        if proc.returncode != 0:
            text = report.with_suffix(".txt").read_text()
            totals.setdefault("output", {})[role] = text[-8000:]
    totals["seconds"] = round(time.monotonic() - started, 1)
    return totals


def _summary(report: Path, returncode: int) -> dict[str, Any]:
    out: dict[str, Any] = {"exit": returncode, "cases": 0, "failures": 0, "errors": 0}
    if not report.exists():
        out["errors"] = 1
        return out
    data = json.loads(report.read_text())
    cases = data.get("test_cases") or {}
    out["cases"] = int(cases.get("generated", 0))
    out["failures"] = int(cases.get("unique_failures", 0)) + int(cases.get("with_failures", 0))
    out["errors"] = int(cases.get("errored", 0)) + len(data.get("errors") or [])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=None)
    # one thread per run: CPython 3.11.7 can fail "AST constructor recursion depth mismatch"
    # when hypothesis describes strategies in two threads at once (gh-106905)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--database-url", default=os.environ.get("FUZZ_DATABASE_URL"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        url = args.database_url or f"sqlite:///{instance / 'fuzz.db'}"
        bearer = seed(url, instance)
        with live_server(url, instance) as base:
            totals = run(base, bearer, args.examples, args.seed, args.workers,
                         instance / "reports", args.phases)
    print(json.dumps({k: v for k, v in totals.items() if k != "output"}, indent=1))
    for role, text in (totals.get("output") or {}).items():
        print(f"--- {role} ---\n{text}", file=sys.stderr)
    return 0 if not totals["failures"] and not totals["errors"] and not totals.get(
        "output") else 1


if __name__ == "__main__":
    sys.exit(main())
