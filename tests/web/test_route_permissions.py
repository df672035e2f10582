"""Every route of the app against the one permissions table (`workflow.permissions`): each is
public (listed here, with why) or declares the action it is for, and a user of a role the
table leaves out is refused (403) — a new route that declares nothing fails here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest

from tests import factories
from tests.factories import PASSWORD
from web.auth import declared_action
from workflow import permissions
from workflow.roles import Role
from workflow.services import clock, second_factor

# endpoint -> why anyone may open it without logging in
PUBLIC = {
    "static": "the pages' stylesheets, scripts and fonts, the login page's too",
    "views.index": "only redirects to the inbox, which asks for a login",
    "auth.login": "logging in",
    "auth.login_otp": "the second step of logging in",
    "auth.logout": "ends the session it is sent with, if any",
    "auth.set_language": "the language switch works on the login page too",
    "health.healthz": "the load balancer's and make run's probe: says ok or what is down",
    "metrics.metrics": "loopback or METRICS_TOKEN only (web/metrics.py), no user",
    "public.notice": "网上公示: the public notice is for anyone (002 §六(三))",
    "public.case": "one case under notice, and filing an objection to it (002 §六(三))",
    "public.filed": "the objector's confirmation number",
    "public.objection_status": "the objector looks up their objection by its number",
    "public.register": "the public register of designated bases",
    "api-docs.openapi_json": "the API's description",
    "api_docs.docs": "the API's documentation page",
    "auth_api.Token": "exchanges a user name and password for a token",
    "notices_api.Notices": "the public notice, as JSON",
    "notices_api.OneNotice": "one case under notice, as JSON",
    "notices_api.FileObjection": "anyone may object during the notice (002 §六(三))",
    "notices_api.PublicBases": "the public register, as JSON",
}

# actions no route declares: the services ask them for part of a page or for the CLI
NOT_A_ROUTE = {
    "case.internal": "internal comments and who holds a case, inside the case page and API",
    "calendar.edit": "the holiday calendar is kept from the command line (flask calendar)",
}

T = datetime(2006, 4, 20, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Any:
    clock.freeze(T)
    yield
    clock.freeze(None)


def declared(app: Any) -> dict[tuple[str, str], str | None]:
    """(rule, method) -> the action its view declares (None: none), public ones left out."""
    out: dict[tuple[str, str], str | None] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if hasattr(view, "view_class"):  # an API resource: its action per method
                out[(rule.rule, method)] = getattr(view.view_class, "permissions", {}).get(method)
            else:
                out[(rule.rule, method)] = declared_action(view)
    return out


def test_every_route_is_public_or_declares_an_action_of_the_table(app: Any) -> None:
    routes = declared(app)
    undeclared = sorted(k for k, action in routes.items() if action is None)
    assert not undeclared, f"routes that declare no permission and are not public: {undeclared}"
    unknown = sorted(k for k, action in routes.items() if action not in permissions.ACTIONS)
    assert not unknown, unknown
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert not set(PUBLIC) - endpoints, "a public route listed here no longer exists"
    unused = set(permissions.ACTIONS) - set(routes.values()) - set(NOT_A_ROUTE)
    assert not unused, f"actions no route declares (list them in NOT_A_ROUTE): {unused}"


def test_a_public_page_opens_without_a_login_and_a_declared_one_asks_for_it(client: Any
                                                                             ) -> None:
    assert client.get("/notice").status_code == 200
    assert client.get("/register").status_code == 200
    for url in ("/inbox", "/tokens", "/rounds", "/admin/audit", "/dashboard"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    assert client.get("/api/v1/me").status_code == 401


def login(app: Any, world: factories.World, username: str) -> Any:
    """A browser session; an admin enrols a TOTP app first (admins must) and uses it."""
    client = app.test_client()
    if username not in ("sysadmin", "secadmin", "auditor"):
        factories.login(client, username)
        return client
    secret = second_factor.new_totp_secret()
    second_factor.enrol_totp(world.uow(), world.id(username), secret,
                        pyotp.TOTP(secret).at(clock.utcnow()),
                        secret_key=app.config["SETTINGS"].secret_key)
    clock.freeze(T.replace(minute=1))
    client.post("/login", data={"username": username, "password": PASSWORD})
    r = client.post("/login/otp", data={"otp": pyotp.TOTP(secret).at(clock.utcnow())})
    assert r.status_code == 302, r.get_data(as_text=True)
    clock.freeze(T)
    return client


# a sample route of each action, and someone whose role the table leaves out of it;
# "{case}" is a case Wuhan's bureau drafted and submitted to Hubei, "{base}" a designated
# base of Hubei's (on one case a role out of its scope would be told "not found" first)
SAMPLES: list[tuple[str, str, str, str]] = [
    ("case.view", "GET", "/cases/{case}", "sysadmin"),
    ("case.create", "GET", "/applications/new", "hubei_reviewer"),
    ("case.edit_draft", "PATCH", "/api/v1/applications/{case}", "hubei_reviewer"),
    ("case.attest", "PUT", "/api/v1/applications/{case}/attestations", "wuhan_applicant"),
    ("case.fire", "POST", "/cases/{case}/fire", "auditor"),
    ("case.attach", "POST", "/cases/{case}/attachments", "secadmin"),
    ("case.comment", "POST", "/cases/{case}/comments", "sysadmin"),
    ("case.claim", "POST", "/api/v1/applications/{case}/claim", "wuhan_applicant"),
    ("case.report", "POST", "/cases/{case}/reports", "auditor"),
    ("case.export", "GET", "/exports/applications.xlsx", "auditor"),
    ("reports.view", "GET", "/reports/", "sysadmin"),
    ("reports.file", "POST", "/reports/bases/{base}/quarter", "mofcom"),
    ("reports.reference", "PUT", "/api/v1/reference-statistics/2005", "hubei_reviewer"),
    ("reports.reference_view", "GET", "/reports/reference", "hubei_applicant"),
    ("reports.programme", "GET", "/reports/programme", "hubei_applicant"),
    ("dashboard.view", "GET", "/dashboard", "hubei_applicant"),
    ("assessment.run", "GET", "/reports/assessment", "hubei_reviewer"),
    ("supervision.view", "GET", "/supervision", "hubei_applicant"),
    ("supervision.submit", "POST", "/supervision", "mofcom"),
    ("register.view", "GET", "/bases-register/", "auditor"),
    ("register.import", "POST", "/bases-register/import", "hubei_reviewer"),
    ("objections.decide", "GET", "/objections", "hubei_reviewer"),
    ("deputies.manage", "GET", "/deputies", "hubei_applicant"),
    ("webhooks.manage", "GET", "/webhooks", "hubei_applicant"),
    ("rounds.manage", "GET", "/rounds/new", "hubei_applicant"),
    ("admin.home", "GET", "/admin/", "hubei_reviewer"),
    ("accounts.admin", "GET", "/admin/accounts", "secadmin"),
    ("accounts.list", "GET", "/api/v1/users", "hubei_reviewer"),
    ("authorities.admin", "GET", "/admin/authorities", "auditor"),
    ("mail.admin", "GET", "/admin/outbox", "secadmin"),
    ("backups.view", "GET", "/admin/backups", "auditor"),
    ("security.admin", "GET", "/admin/security", "sysadmin"),
    ("audit.read", "GET", "/admin/audit", "sysadmin"),
]
# well-formed requests, so that the refusal is the permission's and not the input's
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("case.edit_draft", "PATCH"): {"version": 1, "contact_phone": "027-1"},
    ("case.attest", "PUT"): {"values": {}, "version": 1},
}
# every role may take these (each on its own things): nobody is left out to refuse
EVERY_ROLE = {"account.own", "catalog.view"}


def test_every_action_a_route_declares_has_a_sample_of_someone_refused(app: Any) -> None:
    sampled = {s[0] for s in SAMPLES}
    declared_actions = set(declared(app).values())
    assert declared_actions - EVERY_ROLE - sampled == set()
    for action in EVERY_ROLE:
        assert set(permissions.ACTIONS[action].roles) == set(Role)


def test_a_role_the_table_leaves_out_is_refused_on_every_sampled_route(
        app: Any, world: factories.World) -> None:
    case = factories.submitted(world, "wuhan_applicant")
    base = factories.approved(world)
    routes = declared(app)
    clients: dict[str, Any] = {}
    api = factories.ApiClient(app.test_client())
    for action, method, url, who in SAMPLES:
        path = url.format(case=case, base=base)
        assert factories.USERS[who][0] not in permissions.rule(action).roles, \
            f"{who} may take {action}: not a refusal sample"
        if path.startswith("/api/"):
            body = BODIES.get((action, method), {})
            r = getattr(api.as_(who), method.lower())(path, json=body)
        else:
            if who not in clients:
                clients[who] = login(app, world, who)
            r = clients[who].open(path, method=method, data={})
        assert r.status_code == 403, (action, method, path, who, r.status_code,
                                      r.get_data(as_text=True)[:300])
    # and the sample routes do declare the action sampled
    for action, method, url, _who in SAMPLES:
        rule = url.replace("{case}", "<int:app_id>").replace("{base}", "<int:app_id>")
        found = [a for (r, m), a in routes.items() if m == method
                 and r.replace("<int(max=2147483647):app_id>", "<int:app_id>")
                 .replace("<int(max=9999):year>", "2005") == rule]
        assert found == [action], (action, method, url, found)
