"""The README's command as its users meet it: a fresh clone, `make run` on the real clock
(no APP_NOW), for ten minutes while people load the main pages every second and beat
scans for reminders. Once on PostgreSQL + Redis and once on the embedded default, side by
side. It asserts what a user would notice: no 5xx, every page within 2 s, every reminder
scan finished (and said so in the log), and every mail written carries a link that opens
its case on the running web server — for the person it was sent to.

`SOAK_SECONDS` shortens it for a quick local run (CI runs the full ten minutes)."""

from __future__ import annotations

import email
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

import pytest

from tests.brokers import own_redis_db
from tests.e2e.soak import Browser, Hit, main_pages
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", 600))
SCAN_SECONDS = 120  # beat's reminder scan interval: at least four scans in ten minutes
PEOPLE = ("hubei_applicant", "hubei_reviewer", "mofcom_reviewer", "guangdong_reviewer")
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)(/cases/\d+)")


@dataclass
class Instance:
    name: str
    clone: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    hits: list[Hit] = field(default_factory=list)
    failure: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.clone / "make-run.log"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("APP_NOW", "BASE_URL", "HOST", "VIRTUAL_ENV")}
        env.update(self.env, PORT=str(self.port), REMINDER_SCAN_SECONDS=str(SCAN_SECONDS))
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(["make", "-s", "run"], cwd=self.clone, env=env,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def wait_healthy(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while "Demo logins" not in self.log.read_text(errors="replace"):
            assert self.proc is not None and self.proc.poll() is None, self.tail()
            assert time.monotonic() < deadline, f"{self.name}: never healthy\n{self.tail()}"
            time.sleep(2)
        assert "Not healthy yet" not in self.log.read_text(errors="replace"), self.tail()

    def soak(self, seconds: float) -> None:
        """Every second each person loads the next of their main pages."""
        try:
            people = []
            for who in PEOPLE:
                b = Browser(self.base)
                if not b.login(who):
                    self.failure = f"{who} could not log in"
                    return
                people.append((b, main_pages(b)))
            people.append((Browser(self.base), ["/login", "/notice"]))
            end, i = time.monotonic() + seconds, 0
            while time.monotonic() < end:
                tick = time.monotonic()
                for b, pages in people:
                    b.get(pages[i % len(pages)])
                i += 1
                time.sleep(max(0.0, 1 - (time.monotonic() - tick)))
            self.hits = [h for b, _ in people for h in b.hits]
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.failure = f"{type(exc).__name__}: {exc}"

    def stop(self) -> None:
        """Ctrl-C, then SIGKILL after a minute; also when `make run` itself already
        ended (its web, worker and beat may not have: they are in its process group)."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGINT, 60), (signal.SIGKILL, 30)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return  # the whole group is gone
            try:
                self.proc.wait(timeout=wait)
                time.sleep(1)
            except subprocess.TimeoutExpired:
                continue
            if sig is signal.SIGINT:
                continue  # make is gone: make sure its children are too

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _clone(tmp: Path, name: str) -> Path:
    dest = tmp / name
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    return dest


def _mails(instance: Instance) -> list[email.message.EmailMessage]:
    folder = instance.clone / "instance" / "mail"
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def _check(instance: Instance) -> None:
    assert not instance.failure, f"{instance.name}: {instance.failure}"
    hits = instance.hits
    assert len(hits) >= SOAK_SECONDS * 3, f"{instance.name}: only {len(hits)} pages loaded"
    broken = [h for h in hits if h.status >= 500 or h.status == 0]
    assert broken == [], f"{instance.name}: {broken[:10]}"
    slow = [h for h in hits if h.seconds >= 2]
    assert slow == [], f"{instance.name}: pages over 2 s: {slow[:10]}"
    log = instance.log.read_text(errors="replace")
    scans = re.findall(r'"message": "reminder scan finished".*?"scan": (\{[^}]*\})', log)
    needed = 2 if SOAK_SECONDS >= 4 * SCAN_SECONDS else 1  # a short local run: one
    assert len(scans) >= needed, f"{instance.name}: {len(scans)} scans\n{instance.tail()}"
    assert all('"skipped": null' in s or '"skipped": "holiday"' in s for s in scans), scans
    assert "Traceback" not in log and '"level": "ERROR"' not in log, instance.tail()
    mails = _mails(instance)
    assert mails, f"{instance.name}: the scans wrote no mail\n{instance.tail()}"
    for mail in mails:
        body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        found = LINK.search(body)
        assert found and found.group(1) == instance.base, body
        recipient = str(mail["To"]).split("@")[0]
        reader = Browser(instance.base)
        assert reader.login(recipient), recipient
        status, page = reader.get(found.group(2))
        case_name = re.search(r"申报单位：(.+)", body)
        assert status == 200 and case_name and case_name.group(1).strip() in page, \
            (recipient, found.group(0), status)


@pytest.mark.slow
def test_a_fresh_clone_runs_for_ten_minutes_on_the_real_clock(
        tmp_path: Path, own_pg: str, redis_url: str) -> None:
    with own_redis_db(redis_url, 15) as broker:
        instances = [
            Instance("postgresql+redis", _clone(tmp_path, "pg"),
                     {"DATABASE_URL": own_pg, "CELERY_BROKER_URL": broker,
                      "CELERY_RESULT_BACKEND": ""}),
            Instance("embedded", _clone(tmp_path, "embedded"),
                     {"DATABASE_URL": "", "CELERY_BROKER_URL": "", "CELERY_RESULT_BACKEND": ""}),
        ]
        try:
            for inst in instances:
                inst.start()
            for inst in instances:  # a fresh clone installs first: give it time
                inst.wait_healthy(900)
            soakers = [threading.Thread(target=i.soak, args=(SOAK_SECONDS,)) for i in instances]
            for t in soakers:
                t.start()
            for t in soakers:
                t.join()
            time.sleep(5)  # a scan that began in the last second has its log line
            for inst in instances:  # while they run: the mails' links must open
                _check(inst)
        finally:
            for inst in instances:
                inst.stop()
