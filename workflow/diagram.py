"""The state diagram, generated from the machine's table (mermaid stateDiagram-v2)."""

from __future__ import annotations

from workflow.states import SPINE, TERMINAL, TRANSITIONS, State


def mermaid(highlight: State | str | None = None, locale: str = "zh") -> str:
    """Mermaid source for the life cycle; `highlight` marks the current state."""
    lines = ["stateDiagram-v2", "    direction LR"]
    for s in State:
        label = s.zh if locale == "zh" else s.en
        lines.append(f"    {s.value}: {label}")
    lines.append(f"    [*] --> {State.DRAFTED.value}")
    for spec in TRANSITIONS:
        label = spec.zh if locale == "zh" else spec.trigger
        for src in spec.sources:
            lines.append(f"    {src.value} --> {spec.dest.value}: {label}")
    for s in sorted(TERMINAL):
        lines.append(f"    {s.value} --> [*]")
    lines.append("    classDef spine font-weight:bold")
    lines.append("    class " + ",".join(s.value for s in SPINE) + " spine")
    if highlight is not None:
        lines.append("    classDef current fill:#c00,color:#fff,stroke:#800,stroke-width:3px")
        lines.append(f"    class {State(highlight).value} current")
    return "\n".join(lines) + "\n"


def markdown(locale: str = "en") -> str:
    """The diagram as a fenced mermaid block, as committed in docs/state-diagram.md."""
    return "```mermaid\n" + mermaid(locale=locale) + "```\n"
