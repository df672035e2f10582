"""A real SMTP server for tests (aiosmtpd on a free loopback port) that records what it
accepts, refuses chosen addresses with 550, and can be slowed down, held or stopped."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from config import Settings, for_tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """The aiosmtpd handler: 550 for addresses starting with "bounce", else accept.

    `hold_rcpt = True` keeps every RCPT waiting (`held` counts them) until it is set back:
    a client held there sits between two messages, the one before accepted and the next
    not yet. `receiving()` counts the messages under way: recipient accepted, data not
    yet. `hold_data(after=n)` lets n more messages through and keeps each further one in
    DATA, its sender waiting for the reply mid-send, until `release_data()`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.peers: list[Any] = []  # the client end of the session each message came by
        self.quits = 0
        self.delay = 0.0
        self.hold_rcpt = False
        self.held = 0
        self._under_way: set[int] = set()  # id() of their envelopes
        self.admitted = 0  # messages let through DATA
        self.admit_limit: int | None = None  # beyond it, DATA waits
        self.lock = threading.Lock()

    def hold_data(self, after: int = 0) -> None:
        """Let `after` more messages through, then keep each further one waiting in DATA."""
        with self.lock:
            self.admit_limit = self.admitted + after

    def release_data(self) -> None:
        """Accept every message again, the waiting ones first."""
        with self.lock:
            self.admit_limit = None

    def _admit(self) -> bool:
        with self.lock:
            if self.admit_limit is not None and self.admitted >= self.admit_limit:
                return False
            self.admitted += 1
            return True

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("bounce"):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if address.startswith("later"):
            return "451 4.3.0 try again later"
        if self.hold_rcpt:
            with self.lock:
                self.held += 1
            try:
                while self.hold_rcpt:
                    await asyncio.sleep(0.01)
            finally:
                with self.lock:
                    self.held -= 1
        envelope.rcpt_tos.append(address)
        with self.lock:
            self._under_way.add(id(envelope))
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            while not self._admit():
                await asyncio.sleep(0.01)
            msg = email.message_from_bytes(envelope.content, policy=default)
            with self.lock:
                self.messages.append(msg)  # type: ignore[arg-type]
                self.peers.append(session.peer)
            return "250 OK queued"
        finally:
            with self.lock:
                self._under_way.discard(id(envelope))

    def receiving(self) -> int:
        with self.lock:
            return len(self._under_way)

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.quits += 1
        return "221 Bye"

    def sessions(self) -> int:
        """How many SMTP sessions (connections) carried the messages received."""
        with self.lock:
            return len(set(self.peers))

    def ids(self) -> list[str]:
        with self.lock:
            return [str(m["X-Outbox-Id"]) for m in self.messages]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.sink = Sink()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self, instance: Path, **changes: Any) -> Settings:
        """Test settings (`config.for_tests`) that send mail to this server."""
        return for_tests(instance, **{"smtp_host": "127.0.0.1", "smtp_port": self.port,
                                      "smtp_tls": "none", "smtp_timeout": 5, **changes})

    def env(self) -> dict[str, str]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_TLS": "none",
                "SMTP_TIMEOUT": "5"}
