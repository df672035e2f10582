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
