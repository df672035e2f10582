"""Assessment throughput (issue 6): N designated bases × 20 quarters, assessed on PostgreSQL.

    .venv/bin/python -m bench.assessment                  # 10,000 bases, the target's size
    .venv/bin/python -m bench.assessment --bases 500      # quick
    .venv/bin/python -m bench.assessment --profile /tmp/a.prof   # cProfile of the real run

A database of its own (default `eib_bench_assessment`) is dropped and created again, the
world (authorities, rounds, reference statistics, users) seeded as `python -m bench` does,
and the bases with five years of quarterly data (2002–2006, 20 quarters) and annual reports
loaded with COPY. Then `workflow.services.assessment.run(uow, 2006)` is timed — a real run
that writes one evaluation per base — followed by a second real run (every proposal
refreshed) and a dry run; each counts the SQL statements sent on the engine.
Target: 10,000 bases in under 30 s, statements independent of the number of bases.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from bench import data
from bench.engines import StatementCounter

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/eib_bench_assessment"
PERIOD = 2006
NOW = datetime(2007, 2, 1, 2, tzinfo=UTC)  # the scheduled run: 1 February, 10:00 Beijing
YEARS = range(2002, 2007)  # 20 quarters
# the designated states and how often they occur (002 §一 动态调整: some are rectifying)
STATES = (("approved", 80), ("re_evaluated", 15), ("rectifying", 5))
QUARTER_COLUMNS = ("application_id", "year", "quarter", "revision", "is_current",
                   "figures", "enterprises", "source", "submitted_at")
ANNUAL_COLUMNS = ("application_id", "year", "revision", "summary", "next_year_plan",
                  "policies_in_force", "project_funding_10k_cny", "is_current",
                  "submitted_at")


def _due(year: int, quarter: int) -> datetime:
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return datetime(end.year, end.month, end.day, 2, tzinfo=UTC) + timedelta(days=14)


def _bases(world: data.World, rng: random.Random, n: int) -> Iterator[tuple[object, ...]]:
    """Designated bases of the 2006 round in every authority, both kinds."""
    t0 = datetime(2006, 3, 10, 2, tzinfo=UTC)
    authorities = list(world.applicant_ids)
    for _ in range(n):
        aid = rng.choice(authorities)
        st = rng.choices([s for s, _ in STATES], weights=[w for _, w in STATES])[0]
        ht = Decimal(rng.randrange(500, 40000)) / 100
        growth = [Decimal(rng.randrange(500, 9000)) / 100 for _ in range(3)]
        deadline = (date(2006, 6, 1) + timedelta(days=rng.randrange(0, 400))
                    if st == "rectifying" else None)
        yield (world.current_round_id, aid, world.applicant_ids[aid],
               "new_base" if rng.random() < 0.5 else "recertification", "information", st,
               rng.randrange(1, 6), None, f"基地{rng.randrange(10**9)}",
               data.form_document(ht, growth, rng.randrange(10, 500), rng.randrange(1000, 90000)),
               "{}", t0, deadline, t0, t0, t0)


def _figures(exports: Decimal, hightech: Decimal) -> str:
    """A quarter's base figures as its report's document keeps them."""
    return json.dumps({"exports_10k_usd": format(exports, "f"),
                       "hightech_exports_10k_usd": format(hightech, "f"), "enterprise_count": 3})


def _quarters(ids: list[int], rng: random.Random) -> Iterator[tuple[object, ...]]:
    """20 quarters a base: ~2 % missing, ~5 % late, ~3 % re-filed (an older revision)."""
    for app_id in ids:
        level = rng.randrange(2000, 120000)
        share = rng.uniform(0.2, 0.9)
        for y in YEARS:
            level = int(level * rng.uniform(0.85, 1.4))
            for q in (1, 2, 3, 4):
                if rng.random() < 0.02:
                    continue
                exports = Decimal(level + rng.randrange(0, 5000)) / 4
                hightech = (exports * Decimal(str(round(share, 4)))).quantize(Decimal("0.01"))
                due = _due(y, q)
                at = due + timedelta(days=rng.randrange(1, 30)) if rng.random() < 0.05 else \
                    due - timedelta(days=rng.randrange(1, 14))
                at = min(at, NOW - timedelta(hours=1))  # nothing filed after the run
                revision = 1
                if rng.random() < 0.03:
                    yield (app_id, y, q, 1, False, _figures(exports * 2, hightech * 2), "[]",
                           "excel", at - timedelta(days=3))
                    revision = 2
                yield (app_id, y, q, revision, True, _figures(exports, hightech), "[]", "form",
                       at)


def _annual(ids: list[int], rng: random.Random) -> Iterator[tuple[object, ...]]:
    """An annual report a year, ~3 % missing, a few late, some without policies or funds."""
    for app_id in ids:
        for y in YEARS:
            if rng.random() < 0.03:
                continue
            at = datetime(y, 12, rng.randrange(1, 31), 2, tzinfo=UTC)
            if rng.random() < 0.03:
                at = datetime(y + 1, 1, rng.randrange(2, 28), 2, tzinfo=UTC)  # late
            funding = None if rng.random() < 0.04 else Decimal(rng.randrange(0, 5000))
            yield (app_id, y, 1, "年度工作总结", "下年度工作思路", rng.random() > 0.04, funding,
                   True, at)


def _copy(url: str, table: str, columns: tuple[str, ...],
          rows: Iterator[tuple[object, ...]]) -> None:
    with psycopg.connect(data.psycopg_url(url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()


def load(url: str, bases: int, seed: int = 2006) -> dict[str, Any]:
    """Fresh database: the world, `bases` designated bases, their reports (COPY)."""
    t = time.monotonic()
    data.recreate_database(url)
    world = data.seed_world(url)
    rng = random.Random(seed)
    data.copy_cases(world, _bases(world, rng, bases))
    with psycopg.connect(data.psycopg_url(url)) as conn:
        ids = [i for (i,) in conn.execute("SELECT id FROM applications ORDER BY id")]
        conn.execute("INSERT INTO reference_statistics (year, national_hightech_exports_100m_usd,"
                     " national_hightech_growth_pct, region_export_growth_pct, updated_at) "
                     "VALUES (2006, 2815, 29.0, %s, %s)",
                     (json.dumps(dict.fromkeys(("east", "central", "west", "northeast"),
                                               "27.2")), NOW))
        conn.commit()
    _copy(url, "quarterly_reports", QUARTER_COLUMNS, _quarters(ids, rng))
    _copy(url, "annual_reports", ANNUAL_COLUMNS, _annual(ids, rng))
    with psycopg.connect(data.psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        quarters = int(conn.execute("SELECT count(*) FROM quarterly_reports")
                       .fetchone()[0])  # type: ignore[index]
    return {"bases": len(ids), "quarterly_rows": quarters,
            "load_seconds": time.monotonic() - t}


def _timed(url: str, dry_run: bool, profile: str | None = None) -> dict[str, Any]:
    from workflow.services import assessment
    from workflow.storage.uow import UnitOfWork

    prof = cProfile.Profile() if profile else None
    with StatementCounter(url) as counter:
        t = time.perf_counter()
        if prof is not None:
            prof.enable()
        counts = assessment.run(UnitOfWork(url), PERIOD, dry_run, now=NOW)
        if prof is not None:
            prof.disable()
        seconds = time.perf_counter() - t
    if prof is not None and profile:
        prof.dump_stats(profile)
    return {"seconds": seconds, "statements": counter.count, "bases": counts.bases,
            "bases_per_s": counts.bases / seconds if seconds else 0.0,
            "proposals": dict(counts.proposals), "written": counts.written}


def measure(url: str, bases: int, profile: str | None = None) -> dict[str, Any]:
    """Load, then time a first real run, a second real run and a dry run."""
    out: dict[str, Any] = {"load": load(url, bases)}
    from workflow.storage.db import get_engine

    get_engine(url).dispose()  # connections opened during migration are not the run's
    out["first"] = _timed(url, False, profile)
    out["again"] = _timed(url, False)
    out["dry"] = _timed(url, True)
    with psycopg.connect(data.psycopg_url(url)) as conn:
        out["evaluations"] = int(conn.execute("SELECT count(*) FROM evaluations")
                                 .fetchone()[0])  # type: ignore[index]
    out["ok"] = out["evaluations"] == out["load"]["bases"] == out["first"]["bases"]
    return out


def figures(url: str, bases: int) -> dict[str, Any]:
    """What `python -m bench` reports: measure on a database of its own, then drop it."""
    try:
        r = measure(url, bases)
    finally:
        _drop(url)
    f = r["first"]
    return {"bases": f["bases"], "seconds": f["seconds"], "bases_per_s": f["bases_per_s"],
            "statements": f["statements"], "again_seconds": r["again"]["seconds"],
            "dry_seconds": r["dry"]["seconds"], "dry_statements": r["dry"]["statements"],
            "summary": summary(r)}


def _drop(url: str) -> None:
    from sqlalchemy import create_engine, text

    from workflow.storage.db import get_engine

    get_engine(url).dispose()
    base, _, name = url.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def summary(r: dict[str, Any]) -> str:
    """One Markdown paragraph for docs/benchmarks.md."""
    f, g, d = r["first"], r["again"], r["dry"]
    return (f"{f['bases']:,} bases × 20 quarters ({r['load']['quarterly_rows']:,} quarterly "
            f"rows): first run {f['seconds']:.2f} s ({f['bases_per_s']:,.0f} bases/s, "
            f"{f['statements']} SQL statements); second run {g['seconds']:.2f} s "
            f"({g['bases_per_s']:,.0f} bases/s); dry run {d['seconds']:.2f} s "
            f"({d['bases_per_s']:,.0f} bases/s, {d['statements']} statements). "
            f"Proposals: {f['proposals']}.")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.assessment", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db-url", default=DEFAULT_DB)
    p.add_argument("--bases", type=int, default=10_000)
    p.add_argument("--profile", default=None, help="write cProfile stats of the first run")
    p.add_argument("--json", default=None, help="also write the raw figures here")
    a = p.parse_args(argv)
    r = measure(a.db_url, a.bases, a.profile)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(r, fh, indent=1, default=str)
    print(json.dumps(r, indent=1, default=str))
    print(summary(r))
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
