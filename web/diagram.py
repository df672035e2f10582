"""The life-cycle diagram as inline SVG, laid out from the machine's table.

Server-side so it works offline and under a strict CSP (no script, no style attribute):
columns are the distance from 草稿 along forward transitions, the main line (SPINE) on the
top row, side exits below it; the current state is drawn filled.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from workflow.programme import Programme
from workflow.states import PROGRAMME

NODE_W, NODE_H, COL_W, ROW_H, PAD = 172, 36, 206, 62, 14
GAP = COL_W - NODE_W  # between columns: edges that skip a row run down this lane
RIGHT_MARGIN = 16  # room for edges that skip a row within the last column


def _route(src: tuple[int, int], dst: tuple[int, int], a: tuple[float, float],
           b: tuple[float, float]) -> str:
    """An SVG path from the box at `a` (column, row `src`) to the box at `b` that never
    runs through a third box (edges used to pass behind the side exits and read as
    transitions between them)."""
    (sc, sr), (dc, dr) = src, dst
    (x1, y1), (x2, y2) = a, b
    mid1, mid2 = x1 + NODE_W / 2, x2 + NODE_W / 2
    if src == dst:  # stays in its state: a small loop over the top right corner
        lx, rx = x1 + NODE_W - 44, x1 + NODE_W - 14
        return f"M{lx},{y1} C{lx},{y1 - 13} {rx},{y1 - 13} {rx},{y1}"
    if sr == dr and dc > sc:  # forwards along a row
        return f"M{x1 + NODE_W},{y1 + NODE_H / 2} L{x2},{y2 + NODE_H / 2}"
    if sr == dr:  # backwards along a row: an arc above it
        lift = max(min(y1, y2) - PAD + 2, 2)
        return f"M{mid1},{y1} C{mid1},{lift} {mid2},{lift} {mid2},{y2}"
    if sc == dc and abs(dr - sr) == 1:  # one row down or up: down on the left, up on the right
        x = mid1 - 12 if dr > sr else mid1 + 12
        return (f"M{x},{y1 + NODE_H} L{x},{y2}" if dr > sr
                else f"M{x},{y1} L{x},{y2 + NODE_H}")
    if sc == dc:  # past the box between them: round the right-hand side
        ya, yb, bulge = y1 + NODE_H / 2, y2 + NODE_H / 2, x1 + NODE_W + RIGHT_MARGIN
        return f"M{x1 + NODE_W},{ya} C{bulge},{ya} {bulge},{yb} {x1 + NODE_W},{yb}"
    if dc == sc + 1 and dr == sr + 1:  # one step right and down: into the top left corner
        ax, bx, ym = x1 + NODE_W - 20, x2 + 20, (y1 + NODE_H + y2) / 2
        return f"M{ax},{y1 + NODE_H} C{ax},{ym} {bx},{ym} {bx},{y2}"
    if dc > sc:  # further: down the lane left of the target's column, then in from the left
        lane, ya, yb = x2 - GAP / 2, y1 + NODE_H - 8, y2 + NODE_H / 2
        turn = 6 if yb > ya else -6
        return (f"M{x1 + NODE_W},{ya} L{lane - 6},{ya} Q{lane},{ya} {lane},{ya + turn} "
                f"L{lane},{yb - turn} Q{lane},{yb} {lane + 6},{yb} L{x2},{yb}")
    # backwards to another row (none in today's table)
    ay = y1 + (NODE_H if y2 > y1 else 0)
    by = y2 + (0 if y2 > y1 else NODE_H)
    return f"M{mid1},{ay} C{mid1},{(ay + by) / 2} {mid2},{(ay + by) / 2} {mid2},{by}"


def _ranks(p: Programme) -> dict[str, int]:
    rank = {p.initial: 0}
    changed = True
    while changed:
        changed = False
        for spec in p.transitions:
            for src in spec.sources:
                if src in rank and spec.dest not in rank:
                    rank[spec.dest] = rank[src] + 1
                    changed = True
    return rank


def layout(p: Programme = PROGRAMME) -> dict[str, tuple[int, int]]:
    """(column, row) of every state: the spine on row 0, the others below it."""
    rank = _ranks(p)
    rows: dict[int, int] = {}
    pos: dict[str, tuple[int, int]] = {}
    for s, d in p.states.items():
        if d.spine:
            pos[s] = (rank[s], 0)
    for s in p.states:
        if s in pos:
            continue
        col = rank.get(s, 0)
        rows[col] = rows.get(col, 0) + 1
        pos[s] = (col, rows[col])
    return pos


def svg(current: str | None, label: Callable[[str], str], edge_label: Callable[[str], str],
        title: str, p: Programme = PROGRAMME) -> str:
    """The diagram of programme `p`; `label`/`edge_label` give the words in the page's
    language."""
    pos = layout(p)
    terminal = p.terminal
    cols = max(c for c, _ in pos.values()) + 1
    rows = max(r for _, r in pos.values()) + 1
    width = cols * COL_W + PAD * 2 - (COL_W - NODE_W) + RIGHT_MARGIN
    height = rows * ROW_H + PAD * 2
    cur = str(current) if current else None

    def box(s: str) -> tuple[float, float]:
        c, r = pos[s]
        return PAD + c * COL_W, PAD + r * ROW_H

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
           f"<title>{escape(title)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path class="arrowhead" '
           'd="M0,0 L10,5 L0,10 z"/></marker></defs>']
    for spec in p.transitions:
        for src in spec.sources:
            d = _route(pos[src], pos[spec.dest], box(src), box(spec.dest))
            sc, dc = pos[src][0], pos[spec.dest][0]
            # dashed: back to an earlier column, or round the re-evaluation loop
            back = dc < sc or (dc == sc and spec.dest not in terminal)
            cls = "edge back" if back else "edge"
            out.append(f'<path class="{cls}" d="{d}" marker-end="url(#arrow)">'
                       f"<title>{escape(edge_label(spec.trigger))}</title></path>")
    for s, _ in pos.items():
        x, y = box(s)
        classes = ["node"]
        if p.states[s].spine:
            classes.append("spine")
        if s in terminal:
            classes.append("terminal")
        if s == cur:
            classes.append("current")
        attrs = ' aria-current="step"' if s == cur else ""
        out.append(f'<g class="{" ".join(classes)}" data-state="{s}"{attrs}>'
                   f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
                   f'<text x="{x + NODE_W / 2}" y="{y + NODE_H / 2 + 4}" '
                   f'text-anchor="middle">{escape(label(s))}</text></g>')
    out.append("</svg>")
    return "\n".join(out)
