"""docs/backup.md exercised: pg_dump of a live database and the attachments folder,
restored into an empty database, and the audit chain and every file checksum still hold."""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests import factories
from tests.conftest import require_command
from tests.databases import create_database, drop_database
from workflow.services import audit
from workflow.storage.db import session_factory
from workflow.storage.models import AttachmentRow
from workflow.storage.uow import UnitOfWork


@pytest.fixture(autouse=True)
def _postgresql_client() -> None:
    for command in ("pg_dump", "pg_restore"):
        require_command(command, "postgresql-client")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_backup_restores_into_an_empty_database_with_the_audit_chain_intact(
        pg_url: str, tmp_path: Path) -> None:
    world = factories.build_world(lambda: UnitOfWork(factory=session_factory(pg_url)))
    world.upload_dir = tmp_path / "uploads"
    factories.published(world)
    source = audit.verify(world.uow())
    assert source.ok and source.count >= 3

    dump, archive = tmp_path / "eib.dump", tmp_path / "uploads.tar.gz"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}",
                    libpq(pg_url)], check=True, timeout=120)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(world.upload_dir, arcname=".")

    restored = create_database(pg_url, "eib_restore")
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq(restored)}",
                        str(dump)], check=True, timeout=120)
        target = tmp_path / "restored-uploads"
        target.mkdir()
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")

        report = audit.verify(UnitOfWork(restored))
        assert report.ok and (report.count, report.head) == (source.count, source.head)
        with UnitOfWork(restored) as u:
            files = list(u.session.query(AttachmentRow))
        assert len(files) == 3
        for f in files:
            assert hashlib.sha256((target / f.stored_name).read_bytes()).hexdigest() == f.sha256
    finally:
        drop_database(restored)
