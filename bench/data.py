"""Synthetic data in PostgreSQL, loaded with COPY (a million cases in a minute or two).

Shape of the data (the same at every size, so sizes compare like with like):
- the current round (2006) holds the *working set*: `ACTIVE` cases in open states with
  due dates spread over the round's calendar (at sizes below `ACTIVE`, all cases);
- every other case is history: bases designated in earlier rounds (approved, kept after
  re-evaluation) and closed applications (declined, rejected, withdrawn, revoked…).
A national instance grows by history, not by a bigger working set: 37 authorities send
a few dozen applications a year (002 §六(三)); 1M cases is decades of synthetic history.
Two programmes share the data: about one case in seven is an enterprise of Guangdong's own
list (programmes/guangdong-2006-59.toml), in its own rounds of the same years.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
from sqlalchemy import create_engine, text

from workflow.programme import DEFAULT_CODE, programme
from workflow.regions import AUTHORITIES
from workflow.roles import Role

ACTIVE = 1000
HISTORY_ROUNDS = range(1986, 2006)  # synthetic earlier rounds holding the history
BENCH_POOL = 20_000  # re-evaluated bases reserved for the transition benchmarks
ACTIVE_STATES = (("drafted", 30), ("provincially_reviewed", 30), ("recommended", 20),
                 ("publicly_shown", 10), ("rectifying", 10))
HISTORY_STATES = (("re_evaluated", 45), ("approved", 20), ("declined", 10), ("rejected", 10),
                  ("withdrawn", 8), ("revoked", 5), ("objection_upheld", 2))
# Guangdong's list (its own states): the second programme's share of the cases
GUANGDONG = "guangdong-2006-59"
GUANGDONG_SHARE = 0.15
GD_ACTIVE_STATES = (("drafted", 50), ("provincially_reviewed", 50))
GD_HISTORY_STATES = (("enterprise_designated", 60), ("declined", 20), ("withdrawn", 12),
                     ("designation_revoked", 8))
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2g$not-a-usable-hash"
COLUMNS = ("round_id", "authority_id", "owner_id", "kind", "industry_field", "state",
           "version", "due_on", "applicant_name", "form", "attestations", "submitted_at",
           "rectification_deadline", "created_at", "updated_at", "state_changed_at")


@dataclass
class World:
    """Ids the benchmarks need: who acts, which cases they act on."""

    url: str
    ministry_id: int
    reviewer_ids: dict[int, int]  # authority id -> provincial reviewer
    applicant_ids: dict[int, int]  # authority id -> applicant
    current_round_id: int
    pool: tuple[int, int]  # id range of re-evaluated bases for transition benchmarks
    guangdong_id: int = 0  # the authority whose own programme is the second one
    gd_round_id: int = 0  # its current round
    gd_history_rounds: tuple[int, ...] = ()


def psycopg_url(url: str) -> str:
    """A libpq URL for psycopg / pgbench from a SQLAlchemy one."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database, then migrate it to head."""
    from workflow.storage.migrate import upgrade

    base, _, name = url.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    upgrade(url)


def seed_world(url: str) -> World:
    """Authorities, rounds, reference statistics and users (a few hundred rows)."""
    now = datetime.now(UTC)
    with psycopg.connect(psycopg_url(url)) as conn, conn.cursor() as cur:
        auth_ids = {}
        for a in AUTHORITIES:
            cur.execute("INSERT INTO authorities (code, name_zh, name_en, region, kind) "
                        "VALUES (%s,%s,%s,%s,%s) RETURNING id",
                        (a.code, a.name_zh, a.name_en, a.region.value, a.kind))
            auth_ids[a.code] = cur.fetchone()[0]  # type: ignore[index]
            if a.region.value == "east":  # in the register: east has bases (002 §六(三))
                cur.execute("INSERT INTO export_bases (authority_id, name, base_type, "
                            "designated_on, status, status_since, created_at, updated_at) "
                            "VALUES (%s,%s,'hightech',%s,'designated',%s,%s,%s)",
                            (auth_ids[a.code], f"{a.name_zh}国家高新技术产品出口基地",
                             date(2001, 9, 20), date(2001, 9, 20), now, now))
        import json

        for code in (DEFAULT_CODE, GUANGDONG):
            for year in [*HISTORY_ROUNDS, 2006]:
                cur.execute("INSERT INTO rounds (year, name_zh, name_en, params, opened_on, "
                            "closed_on, created_at, programme) "
                            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                            (year, f"{year}年度", str(year),
                             json.dumps(programme(code).round_rules(year).to_json(),
                                        default=str),
                             date(year, 2, 28), None if year == 2006 else date(year, 12, 31),
                             now, code))
        for year, nat, reg in ((2003, "62.7", "34.6"), (2004, "50.2", "35.2"),
                               (2005, "31.8", "28.1")):
            cur.execute("INSERT INTO reference_statistics (year, national_hightech_growth_pct,"
                        " region_export_growth_pct, updated_at) VALUES (%s,%s,%s,%s)",
                        (year, Decimal(nat), json.dumps(dict.fromkeys(
                            ("east", "central", "west", "northeast"), reg)), now))

        def user(name: str, role: Role, authority_id: int | None) -> int:
            cur.execute("INSERT INTO users (username, display_name, email, role, authority_id,"
                        " is_head, password_hash, password_history, must_change_password, "
                        "is_active, locale, mail_digest, failed_logins, session_epoch, "
                        "created_at) VALUES (%s,%s,%s,%s,%s,false,%s,'[]',false,true,'zh',"
                        "false,0,0,%s) RETURNING id",
                        (name, name, f"{name}@example.gov.cn", role.value, authority_id,
                         PASSWORD_HASH, now))
            return int(cur.fetchone()[0])  # type: ignore[index]

        ministry = user("bench_mofcom", Role.MINISTRY_REVIEWER, None)
        reviewers = {aid: user(f"bench_rev_{code}", Role.PROVINCIAL_REVIEWER, aid)
                     for code, aid in auth_ids.items()}
        applicants = {aid: user(f"bench_app_{code}", Role.APPLICANT, aid)
                      for code, aid in auth_ids.items()}
        cur.execute("SELECT id, year, programme FROM rounds")
        rounds = {(y, c): i for i, y, c in cur.fetchall()}
        conn.commit()
    return World(url, ministry, reviewers, applicants, rounds[(2006, DEFAULT_CODE)], (0, -1),
                 guangdong_id=auth_ids["440000"], gd_round_id=rounds[(2006, GUANGDONG)],
                 gd_history_rounds=tuple(rounds[(y, GUANGDONG)] for y in HISTORY_ROUNDS))


def form_document(hightech: Decimal, growth: list[Decimal], enterprises: int,
                  employees: int) -> str:
    """The application's form as stored (one JSON document, workflow.form.FormDef)."""
    return json.dumps({
        "contact_person": "张明", "contact_email": "bench@example.gov.cn",
        "enterprise_count": enterprises, "exports_100m_usd": str(hightech * 2),
        "hightech_exports_100m_usd": str(hightech),
        "hightech_export_growth_pct_prev2": str(growth[0]),
        "hightech_export_growth_pct_prev1": str(growth[1]),
        "hightech_export_growth_pct": str(growth[2]), "employees": employees},
        ensure_ascii=False)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([s for s, _ in table], weights=[w for _, w in table])[0]


def enterprise_document(rng: random.Random) -> str:
    """A Guangdong enterprise's form (programmes/guangdong-2006-59.toml), as stored."""
    exports = rng.randrange(3000, 90000)
    me = exports * rng.randrange(50, 95) // 100
    brand = me * rng.randrange(10, 60) // 100
    return json.dumps({
        "credit_code": f"9144{rng.randrange(10**6):06d}MA{rng.randrange(10**6):06d}",
        "contact_person": "陈经理", "contact_phone": "020-83331234",
        "main_products": "家用电器、电机", "exports_10k_usd": str(exports),
        "me_exports_10k_usd": str(me), "own_brand_exports_10k_usd": str(brand),
        "own_brand_share_pct": str(round(brand * 100 / me, 2)), "iso9000": True,
        "iso14000": rng.random() < 0.6, "export_credit_grade": "AA", "rd_centre": True},
        ensure_ascii=False)


def _enterprise_row(world: World, rng: random.Random, active: bool, t0: datetime
                    ) -> tuple[object, ...]:
    """One case of Guangdong's own list, applied for by its applicant."""
    st = _weighted(rng, GD_ACTIVE_STATES if active else GD_HISTORY_STATES)
    due = date(2006, 4, 1) + timedelta(days=rng.randrange(0, 60)) if active else None
    submitted = None if st == "drafted" else t0 + timedelta(days=rng.randrange(0, 30))
    gid = world.guangdong_id
    return (world.gd_round_id if active else rng.choice(world.gd_history_rounds), gid,
            world.applicant_ids[gid], "enterprise", None, st, rng.randrange(1, 6), due,
            f"企业{rng.randrange(10**9)}", enterprise_document(rng), "{}", submitted, None,
            t0, t0, t0)


def _rows(world: World, rng: random.Random, count: int, *, active: bool,
          state: str | None, rounds: list[int]) -> Iterator[tuple[object, ...]]:
    authorities = list(world.applicant_ids)
    t0 = datetime(2006, 3, 10, 2, tzinfo=UTC)
    for _ in range(count):
        if state is None and world.gd_round_id and rng.random() < GUANGDONG_SHARE:
            yield _enterprise_row(world, rng, active, t0)
            continue
        aid = rng.choice(authorities)
        st = state or _weighted(rng, ACTIVE_STATES if active else HISTORY_STATES)
        due = None
        if active and st != "publicly_shown":
            due = date(2006, 4, 1) + timedelta(days=rng.randrange(0, 60))
        elif st == "publicly_shown":
            due = date(2006, 5, 1) + timedelta(days=rng.randrange(0, 12))
        submitted = None if st == "drafted" else t0 + timedelta(days=rng.randrange(0, 30))
        ht = Decimal(rng.randrange(5, 20000)) / 100
        growth = [Decimal(rng.randrange(500, 9000)) / 100 for _ in range(3)]
        yield (world.current_round_id if active else rng.choice(rounds), aid,
               world.applicant_ids[aid], "new_base" if rng.random() < 0.4 else "recertification",
               "information", st, rng.randrange(1, 6), due,
               f"基地{rng.randrange(10**9)}",
               form_document(ht, growth, rng.randrange(10, 500), rng.randrange(1000, 90000)),
               "{}",
               submitted, due if st == "rectifying" else None, t0, t0, t0)


def copy_cases(world: World, rows: Iterator[tuple[object, ...]]) -> None:
    with psycopg.connect(psycopg_url(world.url)) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY applications ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()


def case_count(url: str) -> int:
    with psycopg.connect(psycopg_url(url)) as conn:
        return int(conn.execute("SELECT count(*) FROM applications").fetchone()[0])  # type: ignore[index]


def grow_to(world: World, total: int, seed: int = 2006) -> None:
    """Add cases until there are `total`: the working set first, then the bench pool,
    then history. Loading is by COPY; statistics are refreshed afterwards."""
    rng = random.Random(seed + total)
    have = case_count(world.url)
    with psycopg.connect(psycopg_url(world.url)) as conn:
        rounds = [r for (r,) in conn.execute(
            "SELECT id FROM rounds WHERE closed_on IS NOT NULL AND programme = %s",
            (DEFAULT_CODE,))]
    active_now = min(have, ACTIVE)
    need_active = max(0, min(total, ACTIVE) - active_now)
    if need_active:
        copy_cases(world, _rows(world, rng, need_active, active=True, state=None,
                                rounds=rounds))
    have = case_count(world.url)
    if have < total:
        copy_cases(world, _rows(world, rng, total - have, active=False, state=None,
                                rounds=rounds))
    with psycopg.connect(psycopg_url(world.url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE applications")


def reserve_pool(world: World, size: int = BENCH_POOL) -> World:
    """A contiguous block of re-evaluated bases for the transition benchmarks
    (keep_designation loops on itself: every firing is a real transition + history row)."""
    rng = random.Random(9)
    with psycopg.connect(psycopg_url(world.url)) as conn:
        first = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM applications")
                    .fetchone()[0])  # type: ignore[index]
        rounds = [r for (r,) in conn.execute(
            "SELECT id FROM rounds WHERE closed_on IS NOT NULL AND programme = %s",
            (DEFAULT_CODE,))]
    copy_cases(world, _rows(world, rng, size, active=False, state="re_evaluated",
                            rounds=rounds))
    world.pool = (first, first + size - 1)
    return world
