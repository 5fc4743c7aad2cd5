"""Charts as inline SVG, drawn by hand.

Why not a plotting library (measured on a 20,000-issue report, see
benchmarks/README.md): Plotly's offline bundle alone is 4.8 MB, over the whole page's
budget of 2 MB; Vega-Lite with Vega and vega-embed is 0.9 MB of script, draws nothing
until that script has run, and compiles its expressions with `new Function`, which the
report's Content-Security-Policy forbids ('unsafe-eval'); matplotlib adds a heavy
dependency and seconds of import time. What those give for free — hover text, links,
axes, legends — is a few lines here: a dot's `<title>` is its tooltip and an `<a>`
around it opens the issue, with no script at all. Plain SVG renders before any script
runs, scales to a phone's width through `viewBox`, is deterministic (tests read it) and
costs a few kB per chart. Every label is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 30, 40

#: Colours readable on white and by most colour-blind readers (Okabe-Ito).
BLUE, ORANGE, GREEN, RED, GREY, SKY, PURPLE, YELLOW = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#888888",
    "#56B4E9",
    "#CC79A7",
    "#F0E442",
)
#: Series colours in order, for charts with one series per workflow step.
PALETTE = (SKY, ORANGE, PURPLE, BLUE, YELLOW, RED, GREEN, GREY)

#: A white outline that keeps a label readable over the marks behind it.
HALO = 'paint-order="stroke" stroke="#fff" stroke-width="3"'

#: Values of a log scale's grid lines (days): 1-2-5 steps.
_LOG_TICKS = [0.0] + [m * 10**e for e in range(0, 5) for m in (1, 2, 5)]

#: Pixels between two labels of lines drawn across the plot, so neither hides the other.
_LABEL_GAP = 12


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nice_max(value: float, whole: bool = False) -> float:
    """The smallest round top of the y axis at or above `value` whose four grid steps
    are round numbers too (a few round multiples of a power of ten); whole numbers
    when `whole` (counts of issues)."""
    if value <= 0:
        return 4.0 if whole else 1.0
    magnitude = 10 ** math.floor(math.log10(value / 4))
    if whole:
        magnitude = max(magnitude, 1)
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 10):
        step = factor * magnitude
        if whole and step != int(step):
            continue
        if step * 4 >= value:
            return step * 4
    return value


@dataclass(frozen=True)
class Dot:
    """One issue (or event) on a chart: hovering shows `label`, a click opens `url`."""

    x: float
    y: float
    label: str
    url: str | None = None


def _spread(positions: list[float], gap: float, low: float, high: float) -> list[float]:
    """`positions` (sorted) moved apart so that neighbours are at least `gap` apart,
    kept within [low, high] where there is room."""
    placed: list[float] = []
    for p in positions:
        placed.append(max(p, placed[-1] + gap) if placed else max(p, low))
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:
        placed = [p - overflow for p in placed]
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    return placed


class Chart:
    """One plot area with a numeric y axis from 0 (linear, or log(1 + y) for long-tailed
    durations) and an x axis of numbers (day ordinals for dates)."""

    def __init__(
        self, title: str, x0: float, x1: float, ymax: float, ylabel: str = "", *,
        log: bool = False, headroom: float = 0, whole: bool = False,
    ):  # fmt: skip
        self.title = title
        #: pixels kept free above the plotted values (for notes)
        self.headroom = headroom
        self.x0, self.x1 = x0, x1 if x1 > x0 else x0 + 1
        self.log = log
        self.ymax = next(t for t in _LOG_TICKS if t >= ymax) if log else _nice_max(ymax, whole)
        self.ylabel = ylabel
        self.parts: list[str] = []
        self.legend: list[tuple[str, str, str]] = []
        self._hlabels: list[tuple[float, str, str]] = []
        self._vlabels: list[tuple[float, str, str]] = []
        self.notes: list[str] = []

    def x(self, value: float) -> float:
        span = WIDTH - LEFT - RIGHT
        return round(LEFT + (value - self.x0) / (self.x1 - self.x0) * span, 1)

    def x_at(self, px: float) -> float:
        """The x value at pixel `px` (the inverse of `x`)."""
        return self.x0 + (px - LEFT) / (WIDTH - LEFT - RIGHT) * (self.x1 - self.x0)

    def y(self, value: float) -> float:
        span = HEIGHT - TOP - BOTTOM - self.headroom
        value = max(0.0, min(value, self.ymax))
        share = math.log1p(value) / math.log1p(self.ymax) if self.log else value / self.ymax
        return round(HEIGHT - BOTTOM - share * span, 1)

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

    def area(
        self, xs: Sequence[float], lower: Sequence[float], upper: Sequence[float],
        colour: str, name: str,
    ) -> None:  # fmt: skip
        """The area between two lines over the same xs (one layer of a stacked chart)."""
        top = [f"{self.x(x)},{self.y(y)}" for x, y in zip(xs, upper)]
        bottom = [f"{self.x(x)},{self.y(y)}" for x, y in zip(reversed(xs), reversed(lower))]
        self.parts.append(
            f'<polygon class="series" points="{" ".join(top + bottom)}" fill="{colour}" '
            f'fill-opacity="0.85" stroke="#fff" stroke-width="0.5"><title>{_e(name)}</title>'
            "</polygon>"
        )
        self.legend.append((name, colour, "area"))

    def dots(self, points: Sequence[Dot], colour: str, name: str, radius: float = 4) -> None:
        """Points in one colour; a dot with a url is a link (a click opens the issue)."""
        if not points:
            return
        marks = []
        for dot in points:
            circle = (
                f'<circle cx="{self.x(dot.x)}" cy="{self.y(dot.y)}" r="{radius}">'
                f"<title>{_e(dot.label)}</title></circle>"
            )
            marks.append(f'<a href="{_e(dot.url)}">{circle}</a>' if dot.url else circle)
        self.parts.append(
            f'<g class="series dots" fill="{colour}" fill-opacity="0.8">{"".join(marks)}</g>'
        )
        self.legend.append((name, colour, "dot"))

    def hline(self, value: float, colour: str, name: str) -> None:
        """A dashed line across the plot, labelled at its right end (labels of lines
        close together are moved apart)."""
        y = self.y(value)
        self.parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="{colour}" '
            f'stroke-dasharray="5 3"/>'
        )
        self._hlabels.append((y, colour, name))

    def vline(self, value: float, colour: str, name: str) -> None:
        """A dotted line from top to bottom, labelled at its top (labels of lines close
        together go on separate rows)."""
        x = self.x(value)
        self.parts.append(
            f'<line x1="{x}" x2="{x}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="{colour}" '
            f'stroke-dasharray="2 3"/>'
        )
        self._vlabels.append((x, colour, name))

    def bar(self, x_left: float, x_right: float, value: float, colour: str, label: str) -> None:
        self.box(x_left, x_right, 0, value, colour, label)

    def box(
        self, x_left: float, x_right: float, low: float, high: float, colour: str, label: str,
        opacity: float = 1.0,
    ) -> None:  # fmt: skip
        x, width = self.x(x_left), self.x(x_right) - self.x(x_left)
        top, bottom = self.y(high), self.y(low)
        fade = f' fill-opacity="{opacity:g}"' if opacity < 1 else ""
        self.parts.append(
            f'<rect class="series" x="{x}" y="{top}" width="{max(width, 1)}" '
            f'height="{max(round(bottom - top, 1), 1)}" fill="{colour}"{fade}><title>'
            f"{_e(label)}</title></rect>"
        )

    def note(self, x: float, text: str) -> None:
        """A small note at the top of the plot, centred on `x`."""
        self.notes.append(
            f'<text x="{self.x(x)}" y="{TOP + 8}" text-anchor="middle" font-size="10" '
            f'fill="#333" {HALO}>{_e(text)}</text>'
        )

    def _labels(self) -> list[str]:
        out = []
        ys = _spread(sorted(y for y, _, _ in self._hlabels), _LABEL_GAP, TOP + 10, HEIGHT - BOTTOM)
        for y, (_, colour, name) in zip(ys, sorted(self._hlabels)):
            out.append(
                f'<text x="{WIDTH - RIGHT - 2}" y="{y - 3}" text-anchor="end" fill="{colour}" '
                f'font-size="11" font-weight="600" {HALO}>{_e(name)}</text>'
            )
        rows: list[float] = []  # where each row of labels ends, left to right
        for x, colour, name in sorted(self._vlabels):
            width = 6.2 * len(name) + 6
            row = next((i for i, end in enumerate(rows) if x > end), len(rows))
            rows[row:row + 1] = [x + width]  # fmt: skip
            out.append(
                f'<text x="{x + 3}" y="{TOP + 10 + row * _LABEL_GAP}" fill="{colour}" '
                f'font-size="11" font-weight="600" {HALO}>{_e(name)}</text>'
            )
        return out

    def _grid(self) -> list[str]:
        values = (
            [t for t in _LOG_TICKS if t <= self.ymax]
            if self.log
            else [self.ymax * i / 4 for i in range(5)]
        )
        grid = []
        for value in values:
            y = self.y(value)
            grid.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="#e5e5e5"/>'
                f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end" font-size="11" '
                f'fill="#555">{value:g}</text>'
            )
        return grid

    def _legend(self) -> list[str]:
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
            if kind == "dot":
                mark = f'<circle cx="{lx + 6}" cy="{HEIGHT - 6}" r="4" fill="{colour}"/>'
            elif kind in ("band", "area"):
                opacity = "0.35" if kind == "band" else "0.85"
                mark = (
                    f'<rect x="{lx}" y="{HEIGHT - 10}" width="14" height="8" fill="{colour}" '
                    f'fill-opacity="{opacity}"/>'
                )
            else:
                dash = f' stroke-dasharray="{kind}"' if kind else ""
                mark = (
                    f'<line x1="{lx}" x2="{lx + 14}" y1="{HEIGHT - 6}" y2="{HEIGHT - 6}" '
                    f'stroke="{colour}" stroke-width="2"{dash}/>'
                )
            legend.append(
                f'{mark}<text x="{lx + 18}" y="{ly}" font-size="11" fill="#333">{_e(name)}</text>'
            )
            lx += width
        return legend

    def render(self, xticks: Sequence[tuple[float, str]], kind: str = "") -> str:
        """The chart as one `<svg class="chart">`; `kind` (e.g. "cfd") is added to its
        classes so that a page or a test can find a chart by what it shows."""
        grid = self._grid()
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
        middle = TOP + (HEIGHT - TOP - BOTTOM) / 2
        ylabel = (
            f'<text x="12" y="{middle}" font-size="11" fill="#555" '
            f'transform="rotate(-90 12 {middle})" text-anchor="middle">{_e(self.ylabel)}</text>'
            if self.ylabel
            else ""
        )
        classes = f"chart {kind}" if kind else "chart"
        return (
            f'<svg class="{classes}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{_e(self.title)}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{_e(self.title)}</title>"
            f'<text x="{LEFT}" y="16" font-size="13" font-weight="600" fill="#222">'
            f"{_e(self.title)}</text>{''.join(grid)}{axis}{ylabel}"
            f"{''.join(self.parts)}{''.join(self.notes)}{''.join(self._labels())}{''.join(self._legend())}</svg>"
        )


def day(value: str) -> float:
    return float(date.fromisoformat(value).toordinal())


_MONTH_STEPS = (1, 2, 3, 6, 12)


def date_ticks(x0: float, x1: float, count: int = 6) -> list[tuple[float, str]]:
    """At most `count` ticks on round dates between day ordinals x0 and x1: days, weeks
    (Mondays) or months (the 1st). The first tick names its year, and so does every tick
    where the year changes ("Dec 28", "Jan 4, 2027"; "Nov", "Jan 2027")."""
    first, last = math.ceil(x0), math.floor(x1)
    if last < first:
        return [(x0, date.fromordinal(int(x0)).strftime("%b %d, %Y"))]
    span = last - first
    for step in (1, 2, 7, 14, 28):
        if span // step + 1 <= count:
            start = first if step < 7 else first + (-date.fromordinal(first).weekday()) % 7
            days = [date.fromordinal(o) for o in range(start, last + 1, step)]
            return _labelled(days, "%b %d", "%b %d, %Y")
    first_day, last_day = date.fromordinal(first), date.fromordinal(last)
    # months counted from year 0; the first is the first month whose 1st is in range
    months_first = first_day.year * 12 + first_day.month - (1 if first_day.day == 1 else 0)
    months_last = last_day.year * 12 + last_day.month - 1
    step = next((s for s in _MONTH_STEPS if (months_last - months_first) // s + 1 <= count), 12)
    days = [
        date(m // 12, m % 12 + 1, 1)
        for m in range(months_first + (-months_first) % step, months_last + 1, step)
    ]
    return _labelled(days, "%b", "%b %Y")


def dated_labels(days: Sequence[str]) -> list[str]:
    """Labels for ISO dates in order: "Oct 02, 2026" for the first and wherever the year
    changes, "Oct 09" for the others."""
    return [label for _, label in _labelled([date.fromisoformat(d) for d in days],
                                            "%b %d", "%b %d, %Y")]  # fmt: skip


def _labelled(days: Sequence[date], short: str, with_year: str) -> list[tuple[float, str]]:
    ticks = []
    for i, d in enumerate(days):
        new_year = i == 0 or d.year != days[i - 1].year
        ticks.append((float(d.toordinal()), d.strftime(with_year if new_year else short)))
    return ticks


def empty(title: str, text: str, kind: str = "") -> str:
    """A chart with nothing to plot says so (still a rendered SVG)."""
    classes = f"chart {kind}" if kind else "chart"
    return (
        f'<svg class="{classes}" viewBox="0 0 {WIDTH} 60" role="img" aria-label="{_e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>'
        f'<rect x="0" y="0" width="{WIDTH}" height="60" fill="#fafafa"/>'
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="13" font-weight="600" '
        f'fill="#444">{_e(title)}</text>'
        f'<text x="{WIDTH / 2}" y="44" text-anchor="middle" font-size="12" '
        f'fill="#666">{_e(text)}</text></svg>'
    )
