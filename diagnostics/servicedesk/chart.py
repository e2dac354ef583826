"""Geometry for the server-rendered SVG bar chart of diagnoses (the numbers are also in a table).

Each bar has its label on a line of its own above it, so a whole Dutch catalogue title fits.
"""

from __future__ import annotations

from dataclasses import dataclass

LABEL_HEIGHT = 20
BAR_HEIGHT = 22
GAP = 12
ROW_HEIGHT = LABEL_HEIGHT + BAR_HEIGHT + GAP
BAR_AREA = 560
WIDTH = BAR_AREA + 60


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    # The label's baseline; the bar's top edge is ``bar_y``.
    y: int
    bar_y: int
    width: int


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    width: int
    height: int


def bar_chart(counts: list[tuple[str, int]]) -> Chart:
    """Horizontal bars, longest first; the longest bar fills the bar area."""
    ordered = sorted(counts, key=lambda item: (-item[1], item[0]))
    top = max((count for _, count in ordered), default=0)
    bars = tuple(
        Bar(
            label=label,
            count=count,
            y=index * ROW_HEIGHT + LABEL_HEIGHT - 5,
            bar_y=index * ROW_HEIGHT + LABEL_HEIGHT,
            width=max(1, round(BAR_AREA * count / top)) if top else 0,
        )
        for index, (label, count) in enumerate(ordered)
    )
    height = max(len(bars) * ROW_HEIGHT - GAP, BAR_HEIGHT)
    return Chart(bars=bars, width=WIDTH, height=height)
