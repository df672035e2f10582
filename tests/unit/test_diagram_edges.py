"""The case page's life-cycle diagram: no arrow runs behind a box it does not join (an
edge drawn through 已撤回 used to read as a transition 已撤回 → 不予推荐)."""

from __future__ import annotations

import re

from web.diagram import COL_W, NODE_H, NODE_W, PAD, ROW_H, _route, layout
from workflow.states import TRANSITIONS, State


def _points(d: str, steps: int = 40) -> list[tuple[float, float]]:
    """Points along an SVG path made of M, L, Q and C commands (absolute)."""
    tokens = re.findall(r"([MLQC])([^MLQC]*)", d)
    out: list[tuple[float, float]] = []
    cur = (0.0, 0.0)
    for cmd, args in tokens:
        nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        pts = list(zip(nums[::2], nums[1::2], strict=True))
        if cmd == "M":
            cur = pts[0]
            continue
        ctrl = [cur, *pts]
        for i in range(1, steps + 1):
            t = i / steps
            if cmd == "L":
                (x0, y0), (x1, y1) = ctrl
                out.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
            elif cmd == "Q":
                p0, p1, p2 = ctrl
                out.append(tuple((1 - t) ** 2 * a + 2 * (1 - t) * t * b + t * t * c
                                 for a, b, c in zip(p0, p1, p2, strict=True)))
            else:
                p0, p1, p2, p3 = ctrl
                out.append(tuple((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b
                                 + 3 * (1 - t) * t * t * c + t ** 3 * e
                                 for a, b, c, e in zip(p0, p1, p2, p3, strict=True)))
        cur = pts[-1]
    return out


def test_no_edge_passes_through_a_state_it_does_not_join() -> None:
    pos = layout()
    boxes = {s: (PAD + c * COL_W, PAD + r * ROW_H) for s, (c, r) in pos.items()}
    crossings = []
    for spec in TRANSITIONS:
        for src in spec.sources:
            d = _route(pos[src], pos[spec.dest], boxes[src], boxes[spec.dest])
            for other, (x, y) in boxes.items():
                if other in (src, spec.dest):
                    continue
                if any(x + 2 < px < x + NODE_W - 2 and y + 2 < py < y + NODE_H - 2
                       for px, py in _points(d)):
                    crossings.append(f"{spec.trigger}: {src} → {spec.dest} "
                                     f"runs through {other.value}")
    assert not crossings, crossings


def test_every_edge_ends_on_the_border_of_its_target() -> None:
    pos = layout()
    boxes = {s: (PAD + c * COL_W, PAD + r * ROW_H) for s, (c, r) in pos.items()}
    for spec in TRANSITIONS:
        for src in spec.sources:
            d = _route(pos[src], pos[spec.dest], boxes[src], boxes[spec.dest])
            ex, ey = _points(d)[-1]
            x, y = boxes[spec.dest]
            on_border = (x - 0.5 <= ex <= x + NODE_W + 0.5 and y - 0.5 <= ey <= y + NODE_H + 0.5
                         and (ex in (x, x + NODE_W) or ey in (y, y + NODE_H)))
            assert on_border, (spec.trigger, src, (ex, ey))


def test_the_main_line_is_one_row_in_order() -> None:
    pos = layout()
    assert [pos[s] for s in (State.DRAFTED, State.PROVINCIALLY_REVIEWED, State.RECOMMENDED,
                             State.PUBLICLY_SHOWN, State.APPROVED)] == [
        (0, 0), (1, 0), (2, 0), (3, 0), (4, 0)]
