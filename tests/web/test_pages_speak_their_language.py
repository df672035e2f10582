"""Every page each role can reach, in both languages: the Chinese UI shows no raw code (a
state, step, status or role key such as `provincially_reviewed`, `queued`, `rectify`), and
the English UI labels its controls and columns in English. The crawl follows the links a
user would, from the home page, as each demo role."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests import factories
from tests.web.test_route_permissions import frozen, login  # noqa: F401 (a fixture)
from workflow import states
from workflow.programme import known

ROLES = ("wuhan_applicant", "hubei_applicant", "hubei_reviewer", "mofcom", "sysadmin",
         "secadmin", "auditor")
PAGES_PER_ROLE = 45
SKIP = re.compile(r"^/(logout|static/)|/attachments/\d+|\.(xlsx|csv|pdf|eml)$|/export|/print$|"
                  r"/diagram|/openapi|/api/")
SNAKE = re.compile(r"^[a-z]+(?:_[a-z0-9]+)+$")
CJK = re.compile(r"[\u4e00-\u9fff]")
# elements whose text is code or data by design: the audit log's folded raw record, a user's
# own typed text, scripts
QUIET = {"script", "style", "pre", "code", "textarea", "option"}
CHROME = {"th", "label", "button", "legend", "nav"}


def codes() -> set[str]:
    """What must never be shown as is in the Chinese UI: every state, step and status key."""
    out = {s.value for s in states.State} | {"queued", "running", "finished", "superseded",
                                             "rectify", "keep", "revoke"}
    for prog in known():
        out |= set(prog.states) | {t.trigger for t in prog.transitions}
    return {c for c in out if len(c) > 3}


class Page(HTMLParser):
    """The page's visible text nodes, each with whether it sits in a control's label, a
    column head, a button or the navigation; and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[tuple[str, bool]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag in {"br", "img", "input", "meta", "link", "hr", "source", "col", "wbr"}:
            return
        quiet = tag in QUIET or "data-raw" in a or a.get("translate") == "no" \
            or a.get("hidden") is not None or (bool(self.stack) and self.stack[-1][1])
        self.stack.append((tag, quiet))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not text or (self.stack and self.stack[-1][1]):
            return
        self.texts.append((text, any(t in CHROME for t, _ in self.stack)))


def crawl(client: Any) -> dict[str, Page]:
    """The pages a user reaches by following links from the home page (HTML, 200 only)."""
    seen: dict[str, Page] = {}
    queue = deque(["/", "/inbox", "/notifications", "/dashboard"])
    visited: set[str] = set()
    while queue and len(seen) < PAGES_PER_ROLE:
        url = queue.popleft()
        if url in visited:
            continue
        visited.add(url)
        r = client.get(url, follow_redirects=True)
        if r.status_code != 200 or not r.content_type.startswith("text/html"):
            continue
        page = Page()
        page.feed(r.get_data(as_text=True))
        seen[url] = page
        for href in page.links:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc or not parts.path.startswith("/") or SKIP.search(parts.path):
                continue
            nxt = parts.path + (f"?{parts.query}" if parts.query else "")
            if nxt not in visited and "sort=" not in nxt and "cursor=" not in nxt:
                queue.append(nxt)
    return seen


@pytest.fixture
def cases(world: factories.World) -> None:
    """Cases in the states a reviewer meets: drafted, submitted, recommended, under notice,
    approved (a base, with its register entry)."""
    factories.draft(world, applicant_name="武汉生物医药基地")
    factories.submitted(world, "wuhan_applicant", applicant_name="武汉光谷基地")
    factories.recommended(world, applicant="hunan_applicant", reviewer="hunan_reviewer",
                          applicant_name="湖南长株潭新材料基地")
    factories.published(world, applicant_name="湖北襄阳基地")
    factories.approved(world, applicant="sichuan_applicant", reviewer="sichuan_reviewer",
                       applicant_name="成都软件基地")


@pytest.mark.parametrize("username", ROLES)
def test_no_raw_code_in_the_chinese_ui_and_no_chinese_in_the_english_controls(
        app: Any, world: factories.World, cases: None, username: str) -> None:
    client = login(app, world, username)
    raw_codes = codes()
    usernames = set(factories.USERS) | {"mofcom", "mofcom2", "sysadmin", "secadmin", "auditor"}
    zh = crawl(client)
    assert len(zh) >= 8, f"{username} reached only {list(zh)}"
    shown_raw = sorted({(url, t) for url, p in zh.items() for t, _ in p.texts
                        if (t in raw_codes or SNAKE.match(t)) and t not in usernames})
    assert not shown_raw, f"raw codes on {username}'s Chinese pages: {shown_raw[:20]}"

    client.post("/lang/en")  # the switch in the page's header
    en = crawl(client)
    chinese = sorted({(url, t) for url, p in en.items() for t, chrome in p.texts
                      if chrome and CJK.search(t) and t != "中文"})
    assert not chinese, f"Chinese in {username}'s English controls: {chinese[:20]}"
