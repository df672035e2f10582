"""A person's browser, minus the rendering: log in through the form (CSRF and all), load
pages, and record each answer's status and time. Used by the soak test of `make run` and
handy by hand: `python -m tests.e2e.soak http://127.0.0.1:8000 60`."""

from __future__ import annotations

import http.cookiejar
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

DEMO_PASSWORD = "Demo-2006-pass"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CASE_LINK = re.compile(r'href="/cases/(\d+)"')


@dataclass
class Hit:
    who: str
    path: str
    status: int
    seconds: float


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kw: object) -> None:
        return None


@dataclass
class Browser:
    """One person's cookies; `get` and `login` record every answer in `hits`."""

    base: str
    who: str = "anonymous"
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect())

    def request(self, path: str, data: dict[str, str] | None = None,
                timeout: float = 30) -> tuple[int, str, dict[str, str]]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body,
                                     headers={"Accept-Language": "zh-CN"})
        started = time.monotonic()
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                status, text, headers = resp.status, resp.read().decode(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            status, text, headers = err.code, err.read().decode(errors="replace"), dict(err.headers)
        except (OSError, TimeoutError) as err:  # no answer at all counts as a failure
            status, text, headers = 0, f"{type(err).__name__}: {err}", {}
        self.hits.append(Hit(self.who, path, status, time.monotonic() - started))
        return status, text, headers

    def get(self, path: str) -> tuple[int, str]:
        status, text, _ = self.request(path)
        return status, text

    def login(self, username: str, password: str = DEMO_PASSWORD) -> bool:
        self.who = username
        status, page, _ = self.request("/login")
        token = CSRF.search(page)
        if status != 200 or token is None:
            return False
        status, _, headers = self.request("/login", {"csrf_token": token.group(1),
                                                     "username": username,
                                                     "password": password})
        return status == 302 and "/login" not in headers.get("Location", "/login")


def main_pages(browser: Browser) -> list[str]:
    """The pages this person opens first: the inbox, a case in it, and their role's pages."""
    pages = ["/inbox", "/inbox?tab=all", "/notifications"]
    _status, inbox = browser.get("/inbox?tab=all")
    first = CASE_LINK.search(inbox)
    if first:
        pages.append(f"/cases/{first.group(1)}")
    if browser.who != "anonymous" and not browser.who.endswith("_applicant"):
        pages += ["/dashboard", "/reports/"]
    return pages


if __name__ == "__main__":  # a quick look at a running instance
    base, seconds = sys.argv[1], float(sys.argv[2] if len(sys.argv) > 2 else 30)
    people = []
    for user in ("hubei_applicant", "hubei_reviewer", "mofcom_reviewer"):
        b = Browser(base)
        print(user, "logged in" if b.login(user) else "LOGIN FAILED")
        people.append((b, main_pages(b)))
    anon = Browser(base)
    people.append((anon, ["/login", "/notice"]))
    end, i = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        for b, pages in people:
            b.get(pages[i % len(pages)])
        i += 1
        time.sleep(1)
    hits = [h for b, _ in people for h in b.hits]
    bad = [h for h in hits if h.status >= 500 or h.status == 0]
    slow = sorted(hits, key=lambda h: -h.seconds)[:5]
    print(f"{len(hits)} requests, {len(bad)} failed; slowest:",
          [(h.path, h.status, round(h.seconds, 3)) for h in slow])
    for h in bad[:10]:
        print("FAILED", h)
