"""Schemathesis against the live API on PostgreSQL with the demo data, a token per role:
no server error, every response as the contract says. A few examples per operation here;
the full run (>= 5,000 cases) is `python -m tests.e2e.api_fuzz` (docs/api.md)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e import api_fuzz

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def live(pg_url: str, tmp_path: Path) -> Any:
    bearer = api_fuzz.seed(pg_url, tmp_path)
    with api_fuzz.live_server(pg_url, tmp_path) as base:
        yield base, bearer


def _strategy(op: Any) -> Any:
    modes = [op.as_strategy(GenerationMode.POSITIVE)]
    try:
        modes.append(op.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # noqa: BLE001 - an operation without inputs has no negative form
        pass
    return st.one_of(*modes)


def _fuzz(op: Any, roles: dict[str, dict[str, str]], statuses: Counter[int]) -> None:
    """Each generated request is sent once per role (generation is the slow part)."""

    @given(case=_strategy(op))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        for headers in roles.values():
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses[response.status_code] += 1

    check()


@pytest.mark.postgres
def test_every_role_gets_only_documented_answers_and_no_server_error(live: Any) -> None:
    base, bearer = live
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 35
    statuses: Counter[int] = Counter()
    roles = {role: {"Authorization": f"Bearer {bearer[role]}"} if role in bearer else {}
             for role in api_fuzz.ROLES}
    for op in operations:
        _fuzz(op, roles, statuses)
    assert statuses[500] == 0
    assert sum(statuses.values()) >= len(operations) * len(api_fuzz.ROLES)
    assert statuses[200] and statuses[404] and statuses[403] and statuses[422]
