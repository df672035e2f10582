"""The life-cycle diagram as inline SVG, laid out from the machine's table.

Server-side so it works offline and under a strict CSP (no script, no style attribute):
columns are the distance from 草稿 along forward transitions, the main line (SPINE) on the
top row, side exits below it; the current state is drawn filled.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from workflow.states import SPINE, TERMINAL, TRANSITIONS, State

NODE_W, NODE_H, COL_W, ROW_H, PAD = 172, 36, 206, 62, 14


def _ranks() -> dict[State, int]:
    rank = {State.DRAFTED: 0}
    changed = True
    while changed:
        changed = False
        for spec in TRANSITIONS:
            for src in spec.sources:
                if src in rank and spec.dest not in rank:
                    rank[spec.dest] = rank[src] + 1
                    changed = True
    return rank


def layout() -> dict[State, tuple[int, int]]:
    """(column, row) of every state: the spine on row 0, the others below it."""
    rank = _ranks()
    rows: dict[int, int] = {}
    pos: dict[State, tuple[int, int]] = {}
    for s in SPINE:
        pos[s] = (rank[s], 0)
    for s in State:
        if s in pos:
            continue
        col = rank.get(s, 0)
        rows[col] = rows.get(col, 0) + 1
        pos[s] = (col, rows[col])
    return pos


def svg(current: State | str | None, label: Callable[[State], str],
        edge_label: Callable[[str], str], title: str) -> str:
    """The diagram; `label`/`edge_label` give the words in the page's language."""
    pos = layout()
    cols = max(c for c, _ in pos.values()) + 1
    rows = max(r for _, r in pos.values()) + 1
    width, height = cols * COL_W + PAD * 2 - (COL_W - NODE_W), rows * ROW_H + PAD * 2
    cur = State(current) if current else None

    def box(s: State) -> tuple[float, float]:
        c, r = pos[s]
        return PAD + c * COL_W, PAD + r * ROW_H

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
           f"<title>{escape(title)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path class="arrowhead" '
           'd="M0,0 L10,5 L0,10 z"/></marker></defs>']
    for spec in TRANSITIONS:
        for src in spec.sources:
            (x1, y1), (x2, y2) = box(src), box(spec.dest)
            back = pos[spec.dest][0] <= pos[src][0]
            if pos[src][1] == pos[spec.dest][1] and not back:  # same row, forwards
                a, b = (x1 + NODE_W, y1 + NODE_H / 2), (x2, y2 + NODE_H / 2)
                d = f"M{a[0]},{a[1]} L{b[0]},{b[1]}"
            elif back and pos[src][1] == pos[spec.dest][1]:  # same row, backwards: arc above
                a, b = (x1 + NODE_W / 2, y1), (x2 + NODE_W / 2, y2)
                lift = min(y1, y2) - PAD + 2 if min(y1, y2) > PAD else 2
                d = f"M{a[0]},{a[1]} C{a[0]},{lift} {b[0]},{lift} {b[0]},{b[1]}"
            else:
                a = (x1 + NODE_W / 2, y1 + (NODE_H if y2 > y1 else 0))
                b = (x2 + (0 if x2 > x1 else NODE_W / 2), y2 + NODE_H / 2 if x2 > x1
                     else y2 + (0 if y2 > y1 else NODE_H))
                d = f"M{a[0]},{a[1]} C{a[0]},{(a[1] + b[1]) / 2} {a[0]},{b[1]} {b[0]},{b[1]}"
            cls = "edge back" if back else "edge"
            out.append(f'<path class="{cls}" d="{d}" marker-end="url(#arrow)">'
                       f"<title>{escape(edge_label(spec.trigger))}</title></path>")
    for s, _ in pos.items():
        x, y = box(s)
        classes = ["node"]
        if s in SPINE:
            classes.append("spine")
        if s in TERMINAL:
            classes.append("terminal")
        if s is cur:
            classes.append("current")
        attrs = ' aria-current="step"' if s is cur else ""
        out.append(f'<g class="{" ".join(classes)}" data-state="{s.value}"{attrs}>'
                   f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
                   f'<text x="{x + NODE_W / 2}" y="{y + NODE_H / 2 + 4}" '
                   f'text-anchor="middle">{escape(label(s))}</text></g>')
    out.append("</svg>")
    return "\n".join(out)
