"""A small bar chart as SVG geometry (rendered by the template; no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.french import format_day_month

WIDTH, HEIGHT, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_BOTTOM = 720, 200, 32, 24, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    count: int
    label: str  # shown under every few bars

    @property
    def middle(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    axis_y: float
    left: int


def bar_chart(per_day: list[tuple[date, int]]) -> Chart:
    """Bars of dossiers arriving per day, scaled to the busiest day."""
    peak = max((n for _, n in per_day), default=0)
    plot_h = HEIGHT - MARGIN_BOTTOM - 10
    step = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(per_day), 1)
    every = max(len(per_day) // 6, 1)
    bars = []
    for i, (day, n) in enumerate(per_day):
        h = plot_h * n / peak if peak else 0
        label = format_day_month(day) if i % every == 0 or i == len(per_day) - 1 else ""
        bars.append(Bar(MARGIN_LEFT + i * step + 1, HEIGHT - MARGIN_BOTTOM - h, max(step - 2, 1), h, day, n, label))
    return Chart(WIDTH, HEIGHT, bars, peak, HEIGHT - MARGIN_BOTTOM, MARGIN_LEFT)
