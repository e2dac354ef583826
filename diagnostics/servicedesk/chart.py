"""Geometry for the server-rendered SVG bar chart of diagnoses (the numbers are also in a table)."""

from __future__ import annotations

from dataclasses import dataclass

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 260
BAR_AREA = 360
WIDTH = LABEL_WIDTH + BAR_AREA + 60


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    y: int
    width: int


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int


def bar_chart(counts: list[tuple[str, int]]) -> Chart:
    """Horizontal bars, longest first; the longest bar fills the bar area."""
    ordered = sorted(counts, key=lambda item: (-item[1], item[0]))
    top = max((count for _, count in ordered), default=0)
    bars = tuple(
        Bar(
            label=label,
            count=count,
            y=index * (BAR_HEIGHT + GAP),
            width=max(1, round(BAR_AREA * count / top)) if top else 0,
        )
        for index, (label, count) in enumerate(ordered)
    )
    height = max(len(bars) * (BAR_HEIGHT + GAP), BAR_HEIGHT)
    return Chart(bars=bars, width=WIDTH, height=height, label_width=LABEL_WIDTH)
