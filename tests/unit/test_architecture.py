"""The domain stays free of frameworks (STYLE.md): only storage may import SQLAlchemy, and
the domain proper (workflow/*.py) imports the standard library and `transitions` only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = {"flask", "celery", "sqlalchemy", "alembic", "kombu", "werkzeug", "flask_babel",
              "flask_wtf", "flask_smorest", "marshmallow"}
DOMAIN_FILES = sorted(p for p in (ROOT / "workflow").rglob("*.py")
                      if "storage" not in p.relative_to(ROOT / "workflow").parts)
# the domain proper: not its services (use cases, adapters such as the Excel template)
DOMAIN_PROPER = sorted((ROOT / "workflow").glob("*.py"))
# besides the standard library: the state machine, and the State Council's holiday data
# the working-day calendar is built on (workflow/calendar.py)
DOMAIN_MAY_IMPORT = {"workflow", "transitions", "chinese_calendar", "__future__"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_no_framework(path: Path) -> None:
    leaked = imported_roots(path) & FRAMEWORKS
    assert not leaked, f"{path.relative_to(ROOT)} imports {sorted(leaked)}"


@pytest.mark.parametrize("path", DOMAIN_PROPER, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_imports_only_the_standard_library_and_transitions(path: Path) -> None:
    foreign = imported_roots(path) - set(sys.stdlib_module_names) - DOMAIN_MAY_IMPORT
    assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def test_the_check_catches_a_framework_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom sqlalchemy import select\n")
    assert imported_roots(bad) & FRAMEWORKS == {"sqlalchemy"}


def test_there_are_domain_modules_to_check() -> None:
    names = {p.name for p in DOMAIN_FILES}
    assert {"machine.py", "guards.py", "eligibility.py", "calendar.py"} <= names
    assert {p.name for p in DOMAIN_PROPER} >= {"quarterly_data.py", "form.py", "machine.py"}


def test_excel_is_read_and_written_by_the_services_not_by_the_domain() -> None:
    """The quarterly data's rules are the domain's (workflow/quarterly_data.py); the .xlsx
    template and the parsing of an upload are an adapter (workflow/services/quarterly_excel.py)."""
    assert "openpyxl" not in imported_roots(ROOT / "workflow" / "quarterly_data.py")
    assert "openpyxl" in imported_roots(ROOT / "workflow" / "services" / "quarterly_excel.py")
    leaked = {p.name for p in DOMAIN_PROPER if {"openpyxl", "flask", "sqlalchemy"}
              & imported_roots(p)}
    assert not leaked, f"the domain reads spreadsheets or speaks to frameworks: {leaked}"


PROJECT_FILES = sorted(p for top in ("workflow", "web", "tasks", "config")
                       for p in (ROOT / top).rglob("*.py"))


def project_modules_imported(tree: ast.AST) -> set[str]:
    """Names bound to one of the project's own modules (`from workflow.services import cases`,
    `import web.metrics as metrics`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}".replace(".", "/")
                if (ROOT / f"{dotted}.py").exists() or (ROOT / dotted / "__init__.py").exists():
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            names |= {a.asname for a in node.names if a.asname and
                      a.name.split(".")[0] in ("workflow", "web", "tasks", "config")}
    return names


@pytest.mark.parametrize("path", PROJECT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_rebinds_another_modules_names(path: Path) -> None:
    """`cases.fire = wrapper` at start-up hides a change from whoever reads cases.py:
    decorate where the function is defined (e.g. workflow/services/observe.py)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = project_modules_imported(tree)
    rebound = [f"{t.value.id}.{t.attr} (line {t.lineno})" for node in ast.walk(tree)
               if isinstance(node, ast.Assign | ast.AugAssign)
               for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
               if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
               and t.value.id in modules]
    assert not rebound, f"{path.relative_to(ROOT)} rebinds {rebound}"


@pytest.mark.parametrize("path", PROJECT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_attribute_of_the_rate_limiter_is_used(path: Path) -> None:
    """Flask-Limiter through its public API only: its private names change between releases."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [f"{n.value.id}.{n.attr} (line {n.lineno})" for n in ast.walk(tree)
               if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
               and n.value.id == "limiter" and n.attr.startswith("_")]
    assert not private, f"{path.relative_to(ROOT)} uses {private}"


SERVICES = ROOT / "workflow" / "services"


# One use case a function, and small (STYLE.md "Small functions"): ruff's C901 keeps each
# service's complexity at 15 or less (pyproject.toml), this its length at 50 lines.
MAX_SERVICE_LINES = 50


def long_functions(path: Path, limit: int = MAX_SERVICE_LINES) -> list[str]:
    """`name (n lines)` of each function in `path` longer than `limit` lines, from its
    `def` to its last line (docstring and comments count: they are read too)."""
    return [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno is not None and node.end_lineno - node.lineno + 1 > limit]


def test_no_service_function_is_over_fifty_lines() -> None:
    long = {p.name: found for p in sorted(SERVICES.glob("*.py")) if (found := long_functions(p))}
    assert not long, f"split these into smaller functions: {long}"


def test_the_length_check_counts_from_def_to_the_last_line(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(49))
    path = tmp_path / "service.py"
    path.write_text(f"def fits():\n{body}\n\n\ndef over():\n{body}\n    return x0\n")
    assert long_functions(path) == ["over (51 lines)"]


def services_imported(path: Path) -> set[str]:
    """The workflow.services modules `path` imports — at the top or inside a function (a
    late import hides a cycle from the interpreter, not from a reader)."""
    names = {p.stem for p in SERVICES.glob("*.py")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "workflow.services":
                found |= {a.name for a in node.names if a.name in names}
            elif node.module.startswith("workflow.services."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names
                      if a.name.startswith("workflow.services.")}
    return found - {path.stem, "__init__"}


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in `graph` (module → modules it imports) as a path, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt, path + [node])
            if found:
                return found
        done.add(node)
        return None

    return next((c for c in (visit(n, []) for n in sorted(graph)) if c), None)


def test_no_two_services_import_each_other() -> None:
    """mail delivers reminders (and checks their relevance), reminders words its mails
    (services/language.py): one direction each, so each reads on its own."""
    graph = {p.stem: services_imported(p) for p in SERVICES.glob("*.py")}
    assert "reminders" in graph["mail"] and "mail" not in graph["reminders"]
    assert "language" in graph["reminders"]
    cycle = import_cycle(graph)
    assert cycle is None, "services import each other: " + " → ".join(cycle or [])


def test_the_cycle_check_finds_a_late_import(tmp_path: Path) -> None:
    late = tmp_path / "mail.py"
    late.write_text("def f():\n    from workflow.services import reminders\n")
    assert services_imported(late) == {"reminders"}
    assert import_cycle({"mail": {"reminders"}, "reminders": {"language", "mail"},
                         "language": set()}) == ["mail", "reminders", "mail"]


# Settings are read once, by an entry point, and handed on (issue 19): `create_app`'s
# default, the Celery app, the migrations (run by Alembic) and the banner CLI read them.
READS_THE_ENVIRONMENT = ("config/", "web/__init__.py", "web/banner.py", "tasks/app.py",
                         "workflow/storage/migrations/")


def environment_reads(path: Path) -> list[str]:
    """Where `path` reads the environment: os.environ / os.getenv, or load_settings()."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "os" and node.attr in ("environ", "getenv"):
            found.append(f"os.{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                and {a.name for a in node.names} & {"environ", "getenv"}:
            found.append(f"from os import … (line {node.lineno})")
        elif isinstance(node, ast.Call) and (
                isinstance(node.func, ast.Name) and node.func.id == "load_settings"
                or isinstance(node.func, ast.Attribute) and node.func.attr == "load_settings"):
            found.append(f"load_settings() (line {node.lineno})")
    return found


def test_only_the_entry_points_read_the_environment() -> None:
    readers = {str(p.relative_to(ROOT)): reads for p in PROJECT_FILES
               if (reads := environment_reads(p))}
    leaked = {f: r for f, r in readers.items() if not f.startswith(READS_THE_ENVIRONMENT)}
    assert not leaked, f"read the environment outside config/ and the entry points: {leaked}"
    assert "web/__init__.py" in readers and "tasks/app.py" in readers  # the check sees them


def test_the_environment_check_sees_each_way_of_reading_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom os import getenv\nfrom config import load_settings\n"
                   "a = os.environ['X']\nb = load_settings().database_url\n")
    assert [r.split(" ")[0] for r in environment_reads(bad)] == \
        ["from", "os.environ", "load_settings()"]


# Tests hand `create_app(settings=…)` and `make_celery(…)` a `Settings` (config.for_tests,
# dataclasses.replace); they change the environment only where the environment is the point.
TESTS_MAY_SET_THE_ENVIRONMENT = {
    "tests/unit/test_settings.py": "it tests reading the variables into Settings",
    "tests/integration/test_app_settings.py": "it tests that a bad variable stops create_app",
    "tests/integration/test_mail_delivery.py": "SSL_CERT_FILE is read by Python's ssl module",
}
TEST_FILES = sorted(p for p in (ROOT / "tests").rglob("*.py") if "vendor" not in p.parts)


def environment_writes(path: Path) -> list[str]:
    """Where `path` changes this process's environment: monkeypatch.setenv / delenv,
    os.environ[...] = …, del os.environ[...], os.environ.update / pop / …, os.putenv."""

    def is_environ(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ" \
            and isinstance(node.value, ast.Name) and node.value.id == "os"

    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in ("setenv", "delenv", "putenv", "unsetenv")
                or is_environ(node.func.value) and node.func.attr in (
                    "update", "pop", "popitem", "setdefault", "clear", "__setitem__")):
            found.append((node.lineno, f"{node.func.attr}()"))
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            if any(isinstance(t, ast.Subscript) and is_environ(t.value) for t in targets):
                found.append((node.lineno, "os.environ[...]"))
    return [f"{what} (line {line})" for line, what in sorted(found)]


def test_tests_pass_settings_instead_of_setting_the_environment() -> None:
    writers = {str(p.relative_to(ROOT)): writes for p in TEST_FILES
               if (writes := environment_writes(p))}
    leaked = {f: w for f, w in writers.items() if f not in TESTS_MAY_SET_THE_ENVIRONMENT}
    assert not leaked, ("tests change the environment; pass Settings to create_app / "
                        f"make_celery instead: {leaked}")
    assert "tests/unit/test_settings.py" in writers  # the check sees them


def test_the_environment_write_check_sees_each_way_of_writing_it(tmp_path: Path) -> None:
    bad = tmp_path / "test_bad.py"
    bad.write_text("import os\n"
                   "def test(monkeypatch):\n"
                   "    monkeypatch.setenv('A', '1')\n"
                   "    monkeypatch.delenv('B')\n"
                   "    os.environ['C'] = '1'\n"
                   "    os.environ.update(D='1')\n"
                   "    del os.environ['E']\n"
                   "    env = {**os.environ, 'F': '1'}  # a subprocess's own: fine\n")
    assert [w.split(" ")[0] for w in environment_writes(bad)] == \
        ["setenv()", "delenv()", "os.environ[...]", "update()", "os.environ[...]"]


def test_a_unit_of_work_without_its_database_says_what_it_needs() -> None:
    """It used to read DATABASE_URL itself; now the caller's settings say which database."""
    from workflow.storage.uow import UnitOfWork

    with pytest.raises(TypeError, match=r"url \(Settings.database_url\) or a session factory"):
        UnitOfWork()
