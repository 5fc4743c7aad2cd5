"""Charts as inline SVG, drawn by hand.

Why not a plotting library: the report must open offline and the test suite must stay
fast. Plotly would inline about 3.5 MB of JavaScript into every report; Altair/Vega-Lite
needs a JavaScript runtime (or a node-based converter) to turn a spec into SVG;
matplotlib adds a heavy dependency and a second or more of import time per run for
charts this simple. A few lines, bars, dots and bands in plain SVG are small (a few
kB per chart), render without any script, scale to a phone's width through `viewBox`,
and are deterministic, so tests can read them. Every label is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import date

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 30, 40

#: Colours readable on white and by most colour-blind readers (Okabe-Ito).
BLUE, ORANGE, GREEN, RED, GREY, SKY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#888888",
    "#56B4E9",
)


#: A white outline that keeps a label readable over the marks behind it.
HALO = 'paint-order="stroke" stroke="#fff" stroke-width="3"'


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nice_max(value: float) -> float:
    """The smallest round top of the y axis at or above `value` whose four grid steps
    are round numbers too (a few round multiples of a power of ten)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value / 4))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 10):
        step = factor * magnitude
        if step * 4 >= value:
            return step * 4
    return value


class Chart:
    """One plot area with a numeric y axis from 0 and an x axis of numbers."""

    def __init__(self, title: str, x0: float, x1: float, ymax: float, ylabel: str = ""):
        self.title = title
        self.x0, self.x1 = x0, x1 if x1 > x0 else x0 + 1
        self.ymax = _nice_max(ymax)
        self.ylabel = ylabel
        self.parts: list[str] = []
        self.legend: list[tuple[str, str, str]] = []

    def x(self, value: float) -> float:
        span = WIDTH - LEFT - RIGHT
        return round(LEFT + (value - self.x0) / (self.x1 - self.x0) * span, 1)

    def y(self, value: float) -> float:
        span = HEIGHT - TOP - BOTTOM
        return round(HEIGHT - BOTTOM - min(value, self.ymax) / self.ymax * span, 1)

    def line(
        self, points: Sequence[tuple[float, float]], colour: str, name: str, dash: str = ""
    ) -> None:
        if not points:
            return
        coords = " ".join(f"{self.x(px)},{self.y(py)}" for px, py in points)
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<polyline class="series" points="{coords}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{style}><title>{_e(name)}</title></polyline>'
        )
        self.legend.append((name, colour, dash))

    def band(self, points: Sequence[tuple[float, float]], colour: str, name: str) -> None:
        coords = " ".join(f"{self.x(px)},{self.y(py)}" for px, py in points)
        self.parts.append(
            f'<polygon class="series" points="{coords}" fill="{colour}" fill-opacity="0.25" '
            f'stroke="none"><title>{_e(name)}</title></polygon>'
        )
        self.legend.append((name, colour, "band"))

    def dots(self, points: Sequence[tuple[float, float, str]], colour: str, name: str) -> None:
        for px, py, label in points:
            self.parts.append(
                f'<circle class="series" cx="{self.x(px)}" cy="{self.y(py)}" r="4" '
                f'fill="{colour}" fill-opacity="0.8"><title>{_e(label)}</title></circle>'
            )
        if points:
            self.legend.append((name, colour, "dot"))

    def hline(self, value: float, colour: str, name: str) -> None:
        y = self.y(value)
        self.parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="{colour}" '
            f'stroke-dasharray="5 3"/><text x="{WIDTH - RIGHT - 2}" y="{y - 3}" '
            f'text-anchor="end" fill="{colour}" font-size="11" {HALO}>{_e(name)}</text>'
        )

    def vline(self, value: float, colour: str, name: str) -> None:
        x = self.x(value)
        self.parts.append(
            f'<line x1="{x}" x2="{x}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="{colour}" '
            f'stroke-dasharray="2 3"/><text x="{x + 3}" y="{TOP + 10}" fill="{colour}" '
            f'font-size="11" {HALO}>{_e(name)}</text>'
        )

    def bar(self, x_left: float, x_right: float, value: float, colour: str, label: str) -> None:
        x, width = self.x(x_left), self.x(x_right) - self.x(x_left)
        top = self.y(value)
        self.parts.append(
            f'<rect class="series" x="{x}" y="{top}" width="{max(width, 1)}" '
            f'height="{round(HEIGHT - BOTTOM - top, 1)}" fill="{colour}"><title>{_e(label)}'
            "</title></rect>"
        )

    def render(self, xticks: Sequence[tuple[float, str]]) -> str:
        grid = []
        for i in range(5):
            value = self.ymax * i / 4
            y = self.y(value)
            grid.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="#e5e5e5"/>'
                f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end" font-size="11" '
                f'fill="#555">{value:g}</text>'
            )
        for value, label in xticks:
            x = self.x(value)
            # The last label ends at the plot's edge instead of running past it.
            anchor = "end" if x > WIDTH - RIGHT - 20 else "middle"
            grid.append(
                f'<text x="{x}" y="{HEIGHT - BOTTOM + 16}" text-anchor="{anchor}" '
                f'font-size="11" fill="#555">{_e(label)}</text>'
            )
        axis = (
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" '
            f'y2="{HEIGHT - BOTTOM}" stroke="#333"/>'
        )
        ylabel = (
            f'<text x="12" y="{TOP + (HEIGHT - TOP - BOTTOM) / 2}" font-size="11" fill="#555" '
            f'transform="rotate(-90 12 {TOP + (HEIGHT - TOP - BOTTOM) / 2})" '
            f'text-anchor="middle">{_e(self.ylabel)}</text>'
            if self.ylabel
            else ""
        )
        legend = []
        seen: set[str] = set()
        lx, ly = float(LEFT), HEIGHT - 2
        for name, colour, kind in self.legend:
            if name in seen:
                continue
            seen.add(name)
            # About 6 px per character at 11 px: entries flow left to right, never overlap.
            width = 26 + 6 * len(name)
            if lx + width > WIDTH and lx > LEFT:
                break
            mark = (
                f'<circle cx="{lx + 6}" cy="{HEIGHT - 6}" r="4" fill="{colour}"/>'
                if kind == "dot"
                else f'<rect x="{lx}" y="{HEIGHT - 10}" width="14" height="8" fill="{colour}" '
                'fill-opacity="0.35"/>'
                if kind == "band"
                else f'<line x1="{lx}" x2="{lx + 14}" y1="{HEIGHT - 6}" y2="{HEIGHT - 6}" '
                f'stroke="{colour}" stroke-width="2"'
                + (f' stroke-dasharray="{kind}"' if kind else "")
                + "/>"
            )
            legend.append(
                f'{mark}<text x="{lx + 18}" y="{ly}" font-size="11" fill="#333">{_e(name)}</text>'
            )
            lx += width
        return (
            f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{_e(self.title)}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{_e(self.title)}</title>"
            f'<text x="{LEFT}" y="16" font-size="13" font-weight="600" fill="#222">'
            f"{_e(self.title)}</text>{''.join(grid)}{axis}{ylabel}"
            f"{''.join(self.parts)}{''.join(legend)}</svg>"
        )


def day(value: str) -> float:
    return float(date.fromisoformat(value).toordinal())


def date_ticks(x0: float, x1: float, count: int = 6) -> list[tuple[float, str]]:
    if x1 <= x0:
        return [(x0, date.fromordinal(int(x0)).strftime("%b %d"))]
    step = (x1 - x0) / (count - 1)
    ticks = [x0 + step * i for i in range(count)]
    return [(t, date.fromordinal(int(t)).strftime("%b %d")) for t in ticks]


def empty(title: str, text: str) -> str:
    """A chart with nothing to plot says so (still a rendered SVG)."""
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} 60" role="img" aria-label="{_e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>'
        f'<rect x="0" y="0" width="{WIDTH}" height="60" fill="#fafafa"/>'
        f'<text x="{WIDTH / 2}" y="35" text-anchor="middle" font-size="13" '
        f'fill="#666">{_e(text)}</text></svg>'
    )
