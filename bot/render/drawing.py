"""A Picture, and how it is drawn: its bars, marks and words placed on a 640-pixel canvas, then written as a PNG.

`bot.render.chart` works out what a chart shows (a `Picture`: a row per bar
or mark, top to bottom); this module only places and paints it, knowing
nothing of replies or models. `drawing_of` lays the picture out in pixels, as
plain data a test can read back; `png` paints that with Pillow. matplotlib
chooses the ticks (its MaxNLocator) and lends its DejaVu Sans, but does not
draw: its Figure took 130-170 ms for one chart on our 2-core machine (in
3.11 each text label alone costs 5 ms), against 5-20 ms for the whole text
reply the chart goes with. Painting the same rectangles and words with
Pillow, matplotlib's own PNG writer, takes a few milliseconds (bench/chart_bench.py).

Nothing here is imported until a chart is drawn, and the fonts are opened once
per thread, since a FreeType face must not be shared by two threads at once.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

UP, DOWN, NEUTRAL = "#0072B2", "#D55E00", "#999999"     # Okabe-Ito blue and vermillion, safe for colour blindness
INK, FAINT, PAPER = "#222222", "#888888", "#FFFFFF"
WIDTH, PAD = 640, 12                                    # pixels: ~360 px wide in Slack's thumbnail stays legible
ROW, BAR = 45, 27                                       # a step's height and its bar's thickness
TITLE, LABEL, NOTE = 17, 15, 14                         # font sizes in pixels
TOP = PAD + 30                                          # the plot starts below the title


@dataclass(frozen=True)
class Bar:
    """One bar: from `start` by `length` (signed) on the chart's scale, read as `label`, its amount as `note`."""

    label: str
    start: float
    length: float
    note: str
    kind: Literal["push", "others", "importance"] = "push"

    @property
    def end(self) -> float:
        return self.start + self.length


@dataclass(frozen=True)
class Mark:
    """A value the bars start or end at: the base value, the answer before and after; `note` says it in words."""

    label: str
    note: str
    at: float

    @property
    def end(self) -> float:
        return self.at


@dataclass(frozen=True)
class Picture:
    """What a chart shows, worked out from a Reply before anything is drawn."""

    title: str
    axis: str
    bars: tuple[Bar, ...]
    marks: tuple[Mark, ...]
    percent_axis: bool          # the scale is a probability: ticks as percentages
    alt: str
    filename: str

    @property
    def steps(self) -> tuple[Bar | Mark, ...]:
        """Top to bottom: a waterfall's first mark above its bars, its last below them."""
        return (*self.marks[:1], *self.bars, *self.marks[1:])


Box = tuple[int, int, int, int]         # left, top, right, bottom: pixels, both ends inside


@dataclass(frozen=True)
class Rectangle:
    box: Box
    fill: str
    outline: str | None = None


@dataclass(frozen=True)
class Words:
    text: str
    at: tuple[float, float]
    anchor: str                 # Pillow's: "rm" is right-middle, "ma" middle-top ...
    size: int
    colour: str = INK
    bold: bool = False


@dataclass(frozen=True)
class Placed:
    """Where a step went: its bar's box, or its mark's line."""

    step: Bar | Mark
    box: Box


@dataclass(frozen=True)
class Drawing:
    """A Picture in pixels: everything to paint, in order, and where each step went."""

    width: int
    height: int
    rectangles: tuple[Rectangle, ...]
    words: tuple[Words, ...]
    placed: tuple[Placed, ...]          # top to bottom
    pixels_per_unit: float


@dataclass(frozen=True)
class Scale:
    """The x axis: values from `low` to `high` across pixels `left` to `right`."""

    low: float
    high: float
    left: int
    right: int

    @property
    def per_unit(self) -> float:
        return (self.right - self.left) / (self.high - self.low)

    def x(self, value: float) -> int:
        return round(self.left + (value - self.low) * self.per_unit)


def drawing_of(picture: Picture) -> Drawing:
    """Lay `picture` out: the title on top, a row per step with its label on the left, the value axis below."""
    steps = picture.steps
    bottom = TOP + ROW * len(steps)
    left = PAD + round(max(width(step.label, LABEL) for step in steps)) + 10
    scale = Scale(*span(picture), left, WIDTH - PAD - 8)
    rectangles: list[Rectangle] = []
    words = [Words(picture.title, (PAD, PAD), "la", TITLE)]
    placed = []
    for row, step in enumerate(steps):
        middle = TOP + ROW * row + ROW // 2
        words.append(Words(step.label, (left - 8, middle), "rm", LABEL))
        box, shapes, notes = (mark(step, scale, middle) if isinstance(step, Mark) else bar(step, scale, middle))
        placed.append(Placed(step, box))
        rectangles += shapes
        words += notes
    if picture.marks:                                    # a waterfall: each step joined to the next by dots
        for row, step in enumerate(steps[:-1]):
            rectangles += dotted(scale.x(step.end), TOP + ROW * row + (ROW + BAR) // 2, TOP + ROW * (row + 1)
                                 + (ROW - BAR) // 2)
    rectangles += [Rectangle((left, TOP, left, bottom), INK), Rectangle((left, bottom, scale.right, bottom), INK)]
    for value, text in ticks(scale, picture.percent_axis):
        rectangles.append(Rectangle((scale.x(value), bottom, scale.x(value), bottom + 5), INK))
        words.append(Words(text, (scale.x(value), bottom + 7), "ma", NOTE))
    words.append(Words(picture.axis, ((left + scale.right) / 2, bottom + 30), "ma", LABEL))
    return Drawing(WIDTH, bottom + 30 + LABEL + 2 * PAD, tuple(rectangles), tuple(words), tuple(placed),
                   scale.per_unit)


def bar(step: Bar, scale: Scale, middle: int) -> tuple[Box, list[Rectangle], list[Words]]:
    """A bar, its amount inside it in white when it fits there, else just past its end."""
    colour = NEUTRAL if step.kind == "others" else UP if step.kind == "importance" or step.length >= 0 else DOWN
    start, end = sorted((scale.x(step.start), scale.x(step.end)))
    box = (start, middle - BAR // 2, max(end, start + 1), middle + BAR // 2)
    if step.kind != "importance" and width(step.note, NOTE, bold=True) + 8 <= end - start:
        note = Words(step.note, ((start + end) / 2, middle), "mm", NOTE, INK if step.kind == "others" else PAPER,
                     bold=True)
    else:
        note = beside(step.note, (start, end), middle, 4, step.length >= 0, bold=False)
    return box, [Rectangle(box, colour, INK)], [note]


def mark(step: Mark, scale: Scale, middle: int) -> tuple[Box, list[Rectangle], list[Words]]:
    """A mark: a thick line across its row, and what it is in bold beside it."""
    x = scale.x(step.at)
    box = (x - 1, middle - BAR // 2, x + 1, middle + BAR // 2)
    return box, [Rectangle(box, INK)], [beside(step.note, (x, x), middle, 8, True, bold=True)]


def beside(text: str, span: tuple[int, int], middle: int, gap: int, right: bool, bold: bool) -> Words:
    """`text` just right of the span of pixels `span` (or left of it), on its other side when the canvas's edge
    would cut it off there."""
    size, (start, end) = width(text, NOTE, bold), span
    if right and end + gap + size > WIDTH - 2:
        right = False
    elif not right and start - gap - size < 2:
        right = True
    return Words(text, (end + gap, middle) if right else (start - gap, middle), "lm" if right else "rm", NOTE,
                 bold=bold)


def dotted(x: int, top: int, bottom: int) -> list[Rectangle]:
    return [Rectangle((x, y, x, y), FAINT) for y in range(top + 1, bottom, 3)]


def span(picture: Picture) -> tuple[float, float]:
    """The x range: every bar and mark, with room either side for the amounts written past them."""
    ends = [bar.start for bar in picture.bars] + [bar.end for bar in picture.bars] + [m.at for m in picture.marks]
    low, high = min(ends), max(ends)
    pad = (high - low or abs(high) or 1.0) * 0.28
    return (0.0 if not picture.marks else low - pad), high + pad


def ticks(scale: Scale, percent: bool) -> list[tuple[float, str]]:
    """matplotlib's choice of round values along the axis, written with as few decimals as tell them apart."""
    from matplotlib.ticker import MaxNLocator

    close = (scale.high - scale.low) * 1e-9                 # 0.42000000000000004 is the tick at 0.42
    values = [min(max(float(v), scale.low), scale.high)
              for v in MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(scale.low, scale.high)
              if scale.low - close <= v <= scale.high + close]
    shown = [v * 100 if percent else v for v in values]
    decimals = next((d for d in range(5) if all(abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)) for v in shown)), 4)
    return [(value, f"{v + 0.0:,.{decimals}f}{'%' if percent else ''}".replace("-0%", "0%"))
            for value, v in zip(values, shown, strict=True)]


def png(drawing: Drawing) -> bytes:
    """Paint `drawing` and write it as a PNG (fast to compress rather than small: a chart is sent once)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (drawing.width, drawing.height), PAPER)
    canvas = ImageDraw.Draw(image)
    for r in drawing.rectangles:
        canvas.rectangle(r.box, fill=r.fill, outline=r.outline)
    for w in drawing.words:
        canvas.text(w.at, w.text, fill=w.colour, font=font(w.size, w.bold), anchor=w.anchor)
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def width(text: str, size: int, bold: bool = False) -> float:
    return font(size, bold).getlength(text)


fonts = threading.local()


def font(size: int, bold: bool):
    """DejaVu Sans (shipped with matplotlib, so there on every machine we run on), opened once per thread."""
    opened = fonts.__dict__.setdefault("opened", {})
    if (size, bold) not in opened:
        import matplotlib
        from PIL import ImageFont

        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        opened[size, bold] = ImageFont.truetype(str(Path(matplotlib.get_data_path(), "fonts", "ttf", name)), size)
    return opened[size, bold]
