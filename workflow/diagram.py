"""The state diagram of a programme, generated from its definition (mermaid
stateDiagram-v2)."""

from __future__ import annotations

from workflow.programme import Programme
from workflow.states import PROGRAMME


def mermaid(highlight: str | None = None, locale: str = "zh", p: Programme = PROGRAMME) -> str:
    """Mermaid source for the life cycle; `highlight` marks the current state."""
    lines = ["stateDiagram-v2", "    direction LR"]
    for key, s in p.states.items():
        lines.append(f"    {key}: {s.zh if locale == 'zh' else s.en}")
    lines.append(f"    [*] --> {p.initial}")
    for spec in p.transitions:
        label = spec.zh if locale == "zh" else spec.trigger
        for src in spec.sources:
            lines.append(f"    {src} --> {spec.dest}: {label}")
    for key in sorted(p.terminal):
        lines.append(f"    {key} --> [*]")
    lines.append("    classDef spine font-weight:bold")
    lines.append("    class " + ",".join(k for k, s in p.states.items() if s.spine) + " spine")
    if highlight is not None:
        lines.append("    classDef current fill:#c00,color:#fff,stroke:#800,stroke-width:3px")
        lines.append(f"    class {highlight} current")
    return "\n".join(lines) + "\n"


def markdown(locale: str = "en", p: Programme = PROGRAMME) -> str:
    """The diagram as a fenced mermaid block, as committed in docs/state-diagram.md."""
    return "```mermaid\n" + mermaid(locale=locale, p=p) + "```\n"
