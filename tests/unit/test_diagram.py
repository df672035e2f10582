"""The committed state diagram is the one the machine definition generates."""

from __future__ import annotations

from pathlib import Path

from workflow.diagram import markdown, mermaid
from workflow.states import TRANSITIONS, State

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_diagram_matches_the_machine_definition() -> None:
    text = (ROOT / "docs" / "state-diagram.md").read_text(encoding="utf-8")
    assert markdown("en") in text, "regenerate: flask --app web diagram > docs/state-diagram.md"
    assert markdown("zh") in text


def test_the_readme_shows_the_same_diagram() -> None:
    assert markdown("en") in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_transition_appears_as_an_edge() -> None:
    text = mermaid(locale="en")
    for spec in TRANSITIONS:
        for src in spec.sources:
            assert f"{src} --> {spec.dest}: {spec.trigger}" in text


def test_the_current_state_is_highlighted() -> None:
    assert "class publicly_shown current" in mermaid(State.PUBLICLY_SHOWN)
