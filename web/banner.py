"""Printed by `make run` once the system answers: where to open it and how to log in.

`python -m web.banner --wait` polls `/healthz` until it says ok (database, broker and a
worker round trip) and then prints the URL and the demo logins, so they are the last thing
on the screen rather than scrolled away by the processes' start-up lines.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request

from config import load_settings
from workflow.services.demo import DEMO_PASSWORD

LOGINS = [
    ("mofcom_reviewer", "商务部科技司审核 / ministry reviewer"),
    ("guangdong_reviewer", "广东省（东部）审核 / Guangdong reviewer (east)"),
    ("hubei_reviewer", "湖北省（中部）审核 / Hubei reviewer (central)"),
    ("sichuan_reviewer", "四川省（西部）审核 / Sichuan reviewer (west)"),
    ("liaoning_reviewer", "辽宁省（东北）审核 / Liaoning reviewer (northeast)"),
    ("wuhan_applicant", "武汉市商务局（湖北的地级市）/ Wuhan, a Hubei city's applicant"),
    ("guangdong_city_guangzhou", "广州市商务局：广东省机电产品出口基地企业 / Guangzhou, Guangdong's own programme"),
    ("hubei_applicant", "湖北省级申报 / Hubei's own applications"),
    ("sysadmin / secadmin / auditor", "三员管理 / the three admin roles"),
]
WAIT_SECONDS = 180


def health(base_url: str, timeout: float = 10) -> dict[str, str] | None:
    """/healthz's answer (ok or not), or None while nothing answers."""
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=timeout) as resp:
            return dict(json.load(resp))
    except urllib.error.HTTPError as err:  # 503: up, but something is not ok yet
        try:
            return dict(json.load(err))
        except ValueError:
            return {"status": f"HTTP {err.code}"}
    except (OSError, ValueError):
        return None


def wait_until_healthy(base_url: str, seconds: float) -> dict[str, str] | None:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = health(base_url)
        if last is not None and last.get("status") == "ok":
            return last
        time.sleep(1)
    return last


def text(base_url: str, state: dict[str, str] | None) -> str:
    lines = [""]
    if state is None or state.get("status") != "ok":
        lines.append(f"  Not healthy yet after {WAIT_SECONDS} s: {state or 'no answer'} — "
                     "see the log above.")
    lines += [f"  科技兴贸出口创新基地 — open {base_url}/  (health: {base_url}/healthz)", "",
              f"  Demo logins (password for all: {DEMO_PASSWORD}):"]
    lines += [f"    {user:32} {what}" for user, what in LOGINS]
    lines += ["", "  Ctrl-C stops web, worker and beat.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    url = load_settings().base_url
    found = wait_until_healthy(url, WAIT_SECONDS) if "--wait" in sys.argv else None
    print(text(url, found if "--wait" in sys.argv else {"status": "ok"}), flush=True)
