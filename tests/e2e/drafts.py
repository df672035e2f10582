"""An applicant's draft open on its 申报书 form in the browser: where the browser tests of
the form's refusals, of keeping what was typed and of the applicant types begin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.test_walkthrough import _uow, login
from workflow.services import clock


@dataclass
class DraftForm:
    page: Any  # Playwright's page, on /applications/<app_id>/edit
    app_id: int


@contextmanager
def draft_form_open(chromium: Any, live_server: LiveServer, applicant: str = "hubei_applicant",
                    **draft: Any) -> Iterator[DraftForm]:
    """The test world, a draft by `applicant` (`draft`: its form values), the clock at
    2006-04-03 and the applicant logged in on the draft's form; the browser context closed
    and the clock released afterwards."""
    world = factories.build_world(_uow(live_server))
    try:
        app_id = factories.draft(world, applicant, **draft)
        clock.freeze(factories.at("2006-04-03"))
        page = login(chromium, live_server, applicant)
        try:
            page.goto(f"{live_server}/applications/{app_id}/edit")
            yield DraftForm(page, app_id)
        finally:
            page.context.close()
    finally:
        clock.freeze(None)
