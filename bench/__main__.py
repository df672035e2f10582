"""`python -m bench` (`make bench`): every figure beside its ceiling, in one run.

    make bench                                  # full run → docs/benchmarks.md
    make bench BENCH_ARGS="--smoke --out /tmp/b.md"   # seconds; what the test suite runs

The benchmark database (default `eib_bench` on the local PostgreSQL) is dropped and
created again; nothing else is touched. See docs/benchmarks.md for how to read it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import assessment as assessment_bench
from bench import celery_rate, data, delivery, engines, inbox, memory, transitions, web_api

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/eib_bench"
ROOT = Path(__file__).resolve().parents[1]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    p.add_argument("--broker", default=os.environ.get("BENCH_BROKER",
                                                      "redis://127.0.0.1:6379/13"))
    p.add_argument("--sizes", default="10000,100000,1000000",
                   help="case counts for the scan (the middle one serves the other figures)")
    p.add_argument("--inbox-small", type=int, default=1000)
    p.add_argument("--transitions", type=int, default=3000, help="service vs raw, 1 client")
    p.add_argument("--seconds", type=float, default=6.0, help="per HTTP / pgbench point")
    p.add_argument("--clients", default="1,4,16")
    p.add_argument("--inbox-calls", type=int, default=300)
    p.add_argument("--noop-tasks", type=int, default=3000)
    p.add_argument("--memory-transitions", type=int, default=100_000)
    p.add_argument("--assessment-bases", type=int, default=10_000,
                   help="designated bases × 20 quarters, on a database of their own")
    p.add_argument("--repeat", type=int, default=3,
                   help="repetitions of the figures against a ceiling (service layer, HTTP, "
                        "delivery); the report gives the median ratio and every repetition's")
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    p.add_argument("--json", default=None, help="also write the raw figures here")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    a = p.parse_args(argv)
    if a.smoke:
        a.sizes, a.inbox_small, a.transitions, a.seconds = "600,1200,2400", 100, 40, 0.5
        a.clients, a.inbox_calls, a.noop_tasks, a.memory_transitions = "2", 20, 30, 100
        a.assessment_bases = 100
        a.repeat = 1
    return a


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.processor())
    mem = next((int(ln.split()[1]) // 1024 for ln in Path("/proc/meminfo").read_text()
                .splitlines() if ln.startswith("MemTotal")), 0)
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} × {cpu}, {mem} MB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}, {pg}")


def run(a: argparse.Namespace, log: Any = print) -> dict[str, Any]:
    sizes = [int(s) for s in a.sizes.split(",")]
    clients = [int(c) for c in a.clients.split(",")]
    r: dict[str, Any] = {"sizes": sizes, "clients": clients}
    t0 = time.monotonic()

    def step(msg: str) -> None:
        log(f"[{time.monotonic() - t0:7.1f}s] {msg}", flush=True)

    step(f"database {a.db_url.rsplit('@', 1)[-1]}: recreate, migrate, seed")
    data.recreate_database(a.db_url)
    world = data.seed_world(a.db_url)
    data.grow_to(world, a.inbox_small)
    users = [world.ministry_id, *list(world.reviewer_ids.values())[:8]]
    step(f"inbox at {a.inbox_small} cases")
    r["inbox_small"] = inbox.inbox_latency(world, users, a.inbox_calls)
    pool = max(200, min(data.BENCH_POOL, sizes[0] - a.inbox_small - 100))
    data.reserve_pool(world, pool)
    r["load_seconds"] = {}
    r["scan"] = {}
    for n in sizes:
        t = time.monotonic()
        data.grow_to(world, n)
        r["load_seconds"][n] = time.monotonic() - t
        engines.replan(world)
        step(f"{n} cases loaded in {r['load_seconds'][n]:.1f}s; reminder scan")
        r["scan"][n] = engines.reminder_scan(world)
        if n == sizes[0]:
            step("reminder scan at now and at now + 20 years")
            r["scan_jump"] = engines.scan_clock_jump(world)
            step(f"assessment: {a.assessment_bases} bases × 20 quarters (bench/assessment.py)")
            r["assessment"] = assessment_bench.figures(a.db_url + "_assessment",
                                                       a.assessment_bases)
        if n == sizes[min(1, len(sizes) - 1)]:
            r["figures_at"] = n
            _at_working_size(a, world, users, clients, r, step)
    step("done")
    return r


def _at_working_size(a: argparse.Namespace, world: data.World, users: list[int],
                     clients: list[int], r: dict[str, Any], step: Any) -> None:
    step("inbox at the working size")
    r["inbox_large"] = inbox.inbox_latency(world, users, a.inbox_calls)
    step(f"transitions: service layer vs raw psycopg (1 client) × {a.repeat}")
    runs = [transitions.service_vs_raw(world, a.transitions) for _ in range(a.repeat)]
    r["service_vs_raw"] = {**_median_by(runs, "ratio"), "runs": runs}
    step("pgbench")
    r["pgbench"] = {c: transitions.pgbench(world, c, a.seconds) for c in clients}
    step(f"HTTP API vs bare Flask under gunicorn × {a.repeat}")
    http_runs = []
    for _ in range(a.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            http_runs.append(web_api.run(world, clients, a.seconds, Path(tmp), a.broker))
    r["http"] = _median_http(http_runs, clients)
    step(f"celery no-op rate, then reminder delivery (mail worker → aiosmtpd) × {a.repeat}")
    pairs = []
    for _ in range(a.repeat):  # back to back, so background load hits both alike
        noop = celery_rate.noop_rate(a.broker, a.noop_tasks)
        sent = delivery.delivery_rate(world, a.broker, a.noop_tasks)
        pairs.append({**sent, "noop_per_s": noop,
                      "ratio": sent["per_s"] / noop if sent.get("per_s") else 0.0})
    median = _median_by(pairs, "ratio")
    r["celery_noop"] = median["noop_per_s"]
    r["reminder_delivery"] = {**median, "runs": pairs}
    step(f"memory across {a.memory_transitions} transitions")
    r["memory"] = memory.across_transitions(world, a.memory_transitions)


def _median_by(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The run whose `key` is the median (the upper one of an even count)."""
    return dict(sorted(runs, key=lambda x: x[key])[len(runs) // 2])


def _median_http(runs: list[dict[str, Any]], clients: list[int]) -> dict[str, Any]:
    """Per concurrency, the repetition with the median API ÷ bare ratio."""
    out: dict[str, Any] = {"api": {}, "bare": {}, "ratios": {}, "rss_kb": runs[-1]["rss_kb"]}
    for c in clients:
        pairs = sorted(((x["api"][c], x["bare"][c]) for x in runs), key=lambda p: p[0] / p[1])
        out["api"][c], out["bare"][c] = pairs[len(pairs) // 2]
        out["ratios"][c] = [p[0] / p[1] for p in pairs]
    return out


def _ratio(x: float, y: float) -> str:
    return f"{x / y:.0%}" if y else "–"


def report(a: argparse.Namespace, r: dict[str, Any], command: str) -> str:
    """docs/benchmarks.md: the machine, the command, each figure beside its ceiling."""
    sizes, clients = r["sizes"], r["clients"]
    big = clients[-1]
    svr = r["service_vs_raw"]
    L = ["# Benchmarks", "",
         f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} on: {machine()}.", "",
         f"Command: `{command}`", "",
         "Every ceiling was measured on the same machine in the same run, interleaved or "
         "right after its figure. How each figure is made: the top of docs/benchmarks.md.", "",
         "## Summary against the targets", "",
         "| figure | measured | ceiling (same run) | ratio | target |",
         "|---|---|---|---|---|",
         f"| transitions/s, service layer, 1 client | {svr['service_tps']:.0f} | raw psycopg "
         f"{svr['raw_tps']:.0f} | {svr['ratio']:.0%} (median of "
         f"{', '.join(format(x['ratio'], '.0%') for x in svr['runs'])}) | ≥ 60% |",
         f"| — the service's own two statements by psycopg, no Python around them | "
         f"{svr['statements_tps']:.0f} | raw psycopg {svr['raw_tps']:.0f} | "
         f"{svr['statements_ratio']:.0%} | – (what the service could reach) |",
         f"| — the service layer ÷ its own statements | {svr['service_tps']:.0f} | "
         f"{svr['statements_tps']:.0f} | {svr['service_of_statements']:.0%} | – |",
         f"| transitions/s, HTTP API, {big} clients | {r['http']['api'][big]:.0f} | bare "
         f"Flask+psycopg {r['http']['bare'][big]:.0f} | "
         f"{_ratio(r['http']['api'][big], r['http']['bare'][big])} (median of "
         f"{', '.join(f'{x:.0%}' for x in r['http']['ratios'][big])}) | ≥ 50% |"]
    s0, s1 = r["scan"][sizes[0]], r["scan"][sizes[-1]]
    if "seconds" in s0 and "seconds" in s1:
        L.append(f"| reminder scan, {sizes[-1]:,} vs {sizes[0]:,} cases | {s1['seconds']:.3f} s"
                 f" | {s0['seconds']:.3f} s | {s1['seconds'] / s0['seconds']:.2f}× | ≤ 1.5× |")
    else:
        L.append(f"| reminder scan | – | – | – | ≤ 1.5× — {s0.get('note', '')} |")
    jump = r["scan_jump"]
    L.append(f"| reminder scan at now + 20 years vs at now ({sizes[0]:,} cases) | "
             f"{jump['plus_20_years']:.3f} s | {jump['now']:.3f} s | {jump['ratio']:.2f}× | "
             "≤ 1.5× |")
    il, is_ = r["inbox_large"], r["inbox_small"]
    L.append(f"| inbox p95 at {r['figures_at']:,} vs {a.inbox_small:,} cases | "
             f"{il['p95_ms']:.1f} ms | {is_['p95_ms']:.1f} ms | "
             f"{il['p95_ms'] / is_['p95_ms']:.2f}× | ≤ 1.3× and < 150 ms |")
    asm = r["assessment"]
    if "seconds" in asm:
        L.append(f"| assessment, {asm['bases']:,} bases × 20 quarters (real run) | "
                 f"{asm['seconds']:.1f} s | – | – | < 30 s at 10,000 |")
    rd = r["reminder_delivery"]
    runs = ", ".join(f"{x['ratio']:.0%}" for x in rd.get("runs", []))
    L.append(f"| reminders delivered/s (SMTP, {rd['messages']:,} messages) | "
             f"{rd['per_s']:.0f} | Celery no-op {r['celery_noop']:.0f}/s | "
             f"{_ratio(rd['per_s'], r['celery_noop'])}{f' (median of {runs})' if runs else ''}"
             " | ≥ 50% |")
    m = r["memory"]
    L.append(f"| web worker RSS across {m['transitions']:,} transitions | "
             f"+{m['growth_kb'] / 1024:.1f} MB | start {m['rss_start_kb'] / 1024:.0f} MB | – | "
             "flat |")
    L += ["", "## Transitions through HTTP (gunicorn, sync workers, WEB_CONCURRENCY=2)", "",
          "| clients | API tx/s | bare Flask+psycopg tx/s | API ÷ bare | pgbench tx/s |",
          "|---|---|---|---|---|"]
    for c in clients:
        api, bare = r["http"]["api"][c], r["http"]["bare"][c]
        L.append(f"| {c} | {api:.0f} | {bare:.0f} | {_ratio(api, bare)} | "
                 f"{r['pgbench'][c]:.0f} |")
    rss = r["http"]["rss_kb"]
    L += ["", f"gunicorn worker RSS (KB) before/after the API runs: {rss['api_before']} → "
          f"{rss['api_after']}.", "", "## Reminder scan and data loading", "",
          "| cases | COPY load (s, cumulative step) | scan |", "|---|---|---|"]
    for n in sizes:
        sc = r["scan"][n]
        L.append(f"| {n:,} | {r['load_seconds'][n]:.1f} | "
                 f"{sc['seconds'] * 1000:.1f} ms |" if "seconds" in sc else
                 f"| {n:,} | {r['load_seconds'][n]:.1f} | {sc['note']} |")
    L += ["", "## Reminder delivery (one `deliver` task per message, mail worker -c 2)", "",
          "| run | Celery no-op/s | delivered/s | ratio | last message received/s | SMTP "
          "sessions |", "|---|---|---|---|---|---|"]
    for k, x in enumerate(rd.get("runs", [rd]), 1):
        L.append(f"| {k} | {x.get('noop_per_s', r['celery_noop']):.0f} | {x['per_s']:.0f} | "
                 f"{_ratio(x['per_s'], x.get('noop_per_s', r['celery_noop']))} | "
                 f"{x.get('received_per_s', x['per_s']):.0f} | {x.get('smtp_sessions', '–')} |")
    L += ["", "## Assessment", "",
          asm.get("summary") or asm.get("note", ""),
          "", "## Inbox (the query behind /inbox: first page, waiting on me)", "",
          "| cases | p50 | p95 |", "|---|---|---|",
          f"| {a.inbox_small:,} | {is_['p50_ms']:.1f} ms | {is_['p95_ms']:.1f} ms |",
          f"| {r['figures_at']:,} | {il['p50_ms']:.1f} ms | {il['p95_ms']:.1f} ms |",
          "", "## Memory", "",
          f"RSS after warm-up {m['rss_start_kb']:,} KB; after each fifth of the run: "
          f"{', '.join(f'{p:,}' for p in m['rss_points_kb'])} KB.", ""]
    return "\n".join(L)


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    command = "python -m bench " + " ".join(shlex.quote(x) for x in (argv or sys.argv[1:]))
    r = run(a)
    if a.json:
        Path(a.json).write_text(json.dumps(r, indent=1, default=str))
    text = report(a, r, command.strip())
    out = Path(a.out)
    prefix = ""
    if out.exists() and "<!-- results -->" in out.read_text():
        prefix = out.read_text().split("<!-- results -->", 1)[0] + "<!-- results -->\n\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(prefix + text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
