"""docs/programmes.md cannot rot silently: its complete example file is one the engine
accepts as it stands, and every other TOML example on the page is valid TOML whose tables
and settings are ones the engine knows — an official copying a fragment copies no setting
the loader would refuse."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from workflow.assessment import FINDING_KEYS, PROPOSAL_KEYS
from workflow.effects import EFFECTS
from workflow.eligibility import CRITERION_KEYS
from workflow.form import CHECK_KEYS, FIELD_KEYS, FORM_KEYS, KIND_KEYS, SECTION_KEYS, TABLE_KEYS
from workflow.goals import GOAL_KEYS
from workflow.guards import GUARDS
from workflow.programme import (
    ATTACHMENT_KEYS,
    FILE_TABLES,
    HEAD_KEYS,
    NOTICE_KEYS,
    QUARTERLY_KEYS,
    STATE_KEYS,
    TRANSITION_KEYS,
    check_names,
    load,
    named_as_file,
)
from workflow.quarterly_data import COLUMN_KEYS
from workflow.reminders import REMINDER_KEYS
from workflow.rules import NOT_IN_ROUNDS, RoundRules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "programmes.md"
MARKER = "<!-- the complete example file: tests/unit/test_programme_docs.py loads the next toml block -->"
BLOCK = re.compile(r"```toml\n(.*?)```", re.S)

# the settings of each table of a file, by where it is ("*": any state's key, "[]": each
# table of an array of tables)
SETTINGS: dict[tuple[str, ...], Any] = {
    (): FILE_TABLES, ("programme",): HEAD_KEYS,
    ("rounds",): {f.name for f in fields(RoundRules)} - set(NOT_IN_ROUNDS),
    ("states", "*"): STATE_KEYS, ("transitions", "[]"): TRANSITION_KEYS,
    ("attachments", "[]"): ATTACHMENT_KEYS, ("form",): FORM_KEYS,
    ("form", "sections", "[]"): SECTION_KEYS, ("form", "kinds", "[]"): KIND_KEYS,
    ("form", "fields", "[]"): FIELD_KEYS, ("form", "checks", "[]"): CHECK_KEYS,
    ("form", "tables", "[]"): TABLE_KEYS, ("form", "tables", "[]", "fields", "[]"): FIELD_KEYS,
    ("form", "rows"): TABLE_KEYS, ("form", "rows", "fields", "[]"): FIELD_KEYS,
    ("criteria", "[]"): CRITERION_KEYS, ("goals",): GOAL_KEYS,
    ("assessment",): ("findings", "proposal"), ("assessment", "findings", "[]"): FINDING_KEYS,
    ("assessment", "proposal"): PROPOSAL_KEYS, ("reminders", "[]"): REMINDER_KEYS,
    ("notice",): NOTICE_KEYS, ("quarterly",): {*QUARTERLY_KEYS, "columns"},
    ("quarterly", "columns", "[]"): COLUMN_KEYS,
}


def examples() -> list[str]:
    return BLOCK.findall(DOCS.read_text(encoding="utf-8"))


def unknown_settings(table: dict[str, Any], where: tuple[str, ...] = ()) -> list[str]:
    """Every key of `table` (and the tables in it) that is not a setting the engine knows."""
    known = SETTINGS.get(where)
    out = [".".join((*where, k)) for k in table if known is not None and k not in known]
    for key, value in table.items():
        inner = (*where, "*" if where == ("states",) else key)
        if isinstance(value, dict):
            out += unknown_settings(value, inner)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    out += unknown_settings(item, (*inner, "[]"))
    return out


def test_the_docs_complete_example_is_a_file_the_engine_accepts(tmp_path: Path) -> None:
    page = DOCS.read_text(encoding="utf-8")
    assert MARKER in page
    [text] = BLOCK.findall(page[page.index(MARKER):])[:1]
    code = tomllib.loads(text)["programme"]["code"]
    path = tmp_path / f"{code}.toml"
    path.write_text(text, encoding="utf-8")
    p = named_as_file(load(path), path)
    check_names(p, GUARDS, EFFECTS)
    # a list a province keeps: drafted, submitted to it, decided, no ministry step
    assert (p.owner.value, p.authority, p.initial) == ("provincial_reviewer", "440000", "drafted")
    assert p.designating == {"list_centre"}
    assert not any(t.roles & {"ministry_reviewer"} for t in p.transitions)


def test_every_toml_example_on_the_page_is_valid_with_settings_the_engine_knows() -> None:
    found = examples()
    assert len(found) >= 15
    for text in found:
        data = tomllib.loads(text)  # a fragment with "…" for a value would not parse
        assert unknown_settings(data) == [], text[:200]


def test_a_misspelt_setting_in_an_example_would_be_caught() -> None:
    # the check above can fail: a typo in a fragment is found
    assert unknown_settings({"states": {"drafted": {"zh": "草稿", "colour": "blue"}},
                             "form": {"fields": [{"name": "x", "requred": False}]}}) == [
        "states.*.colour", "form.fields.[].requred"]
