"""A Picture drawn: bars as long as their numbers, marks where their values are, words where people read them,
and a PNG whose pixels are what the Drawing says they are.

These pictures are made by hand, so that each test can put a bar or a note exactly where it wants one;
tests/render/test_chart.py checks the pictures made from real replies.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image, ImageColor

from bot.render import drawing
from bot.render.drawing import Bar, Mark, Picture

WATERFALL = Picture("churn: stays (68% confident)", "chance of churns (bars in probability points)",
                    (Bar("contract = two-year", 0.30, -0.12, "-12.0 pts"), Bar("support_calls = 4", 0.18, 0.06,
                                                                                "+6.0 pts"),
                     Bar("other fields", 0.24, 0.08, "+8.0 pts", "others")),
                    (Mark("base value", "30.0%", 0.30), Mark("P(churns)", "32.0%", 0.32)), True, "alt", "x.png")
IMPORTANCES = Picture("What drives churn", "mean |push| (log-odds)",
                      (Bar("contract", 0.0, 1.5, "1.50", "importance"), Bar("age", 0.0, 0.25, "0.25", "importance")),
                      (), False, "alt", "y.png")


def pixels(picture: Picture) -> Image.Image:
    image = Image.open(io.BytesIO(drawing.png(drawing.drawing_of(picture))))
    return image.convert("RGB")


def colour(name: str) -> tuple[int, int, int]:
    return ImageColor.getrgb(name)


def test_the_rows_go_top_to_bottom_in_the_pictures_order_with_their_labels_right_aligned_beside_the_plot():
    drawn = drawing.drawing_of(WATERFALL)
    assert [p.step for p in drawn.placed] == list(WATERFALL.steps)
    assert [p.step.label for p in drawn.placed] == ["base value", "contract = two-year", "support_calls = 4",
                                                    "other fields", "P(churns)"]
    tops = [p.box[1] for p in drawn.placed]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    labels = {w.text: w for w in drawn.words if w.anchor == "rm" and w.size == drawing.LABEL}
    plot_left = min(p.box[0] for p in drawn.placed if isinstance(p.step, Bar)) - 1
    for placed in drawn.placed:
        label = labels[placed.step.label]
        assert label.at[1] == pytest.approx((placed.box[1] + placed.box[3]) / 2, abs=1)
        assert label.at[0] < plot_left


def test_each_bar_is_as_long_as_its_number_and_starts_where_the_one_before_ended():
    drawn = drawing.drawing_of(WATERFALL)
    bars = [p for p in drawn.placed if isinstance(p.step, Bar)]
    for placed in bars:
        left, _, right, _ = placed.box
        assert right - left == pytest.approx(abs(placed.step.length) * drawn.pixels_per_unit, abs=1)
    for before, after in zip(bars, bars[1:], strict=False):
        ended = before.box[0] if before.step.length < 0 else before.box[2]
        began = after.box[2] if after.step.length < 0 else after.box[0]
        assert began == pytest.approx(ended, abs=1)
    base, final = drawn.placed[0], drawn.placed[-1]
    assert (base.box[0] + base.box[2]) / 2 == pytest.approx(bars[0].box[2], abs=1)       # the first bar falls
    assert (final.box[0] + final.box[2]) / 2 == pytest.approx(bars[-1].box[2], abs=1)    # the last one rises


def test_the_png_has_each_bar_in_its_colour_each_mark_in_ink_and_paper_elsewhere():
    drawn = drawing.drawing_of(WATERFALL)
    image = pixels(WATERFALL)
    assert image.size == (drawn.width, drawn.height) == (640, drawn.height)
    fills = {"contract = two-year": drawing.DOWN, "support_calls = 4": drawing.UP, "other fields": drawing.NEUTRAL}
    for placed in drawn.placed:
        left, top, right, bottom = placed.box
        if isinstance(placed.step, Bar):
            assert image.getpixel((left, top)) == colour(drawing.INK)                       # the outline
            assert image.getpixel((left + 2, top + 2)) == colour(fills[placed.step.label])
        else:
            assert image.getpixel(((left + right) // 2, (top + bottom) // 2)) == colour(drawing.INK)
    assert image.getpixel((drawn.width - 3, drawing.TOP + 2)) == colour(drawing.PAPER)


def test_a_bar_note_that_fits_is_written_inside_in_white_and_one_that_does_not_just_past_its_end():
    narrow = Picture("t", "axis", (Bar("wide", 0.0, 1.0, "+1.00"), Bar("thin up", 1.0, 0.01, "+0.01"),
                                   Bar("thin down", 1.01, -0.01, "-0.01")),
                     (Mark("base", "0.00", 0.0), Mark("end", "1.00", 1.0)), False, "alt", "z.png")
    drawn = drawing.drawing_of(narrow)
    notes = {w.text: w for w in drawn.words if w.size == drawing.NOTE}
    wide, up, down = [p.box for p in drawn.placed if isinstance(p.step, Bar)]
    assert notes["+1.00"].anchor == "mm" and notes["+1.00"].colour == drawing.PAPER and notes["+1.00"].bold
    assert notes["+1.00"].at[0] == pytest.approx((wide[0] + wide[2]) / 2, abs=1)
    assert notes["+0.01"].anchor == "lm" and notes["+0.01"].at[0] > up[2]
    assert notes["-0.01"].anchor == "rm" and notes["-0.01"].at[0] < down[0]


def test_a_note_the_canvas_edge_would_cut_goes_on_the_other_side():
    far = Picture("t", "axis", (Bar("most", 0.0, 0.9, "+0.9"), Bar("push", 0.9, 0.1,
                                                                    "a note far too long to fit after the bar")),
                  (Mark("base", "0", 0.0), Mark("end", "a mark's note far too long to fit on its right", 1.0)),
                  False, "alt", "z.png")
    drawn = drawing.drawing_of(far)
    notes = {w.text: w for w in drawn.words}
    [_, bar] = [p.box for p in drawn.placed if isinstance(p.step, Bar)]
    end = drawn.placed[-1].box
    assert notes["a note far too long to fit after the bar"].anchor == "rm"
    assert notes["a note far too long to fit after the bar"].at[0] < bar[0]
    assert notes["a mark's note far too long to fit on its right"].anchor == "rm"
    assert notes["a mark's note far too long to fit on its right"].at[0] < end[0]


def test_importances_start_at_zero_with_their_amounts_after_them():
    drawn = drawing.drawing_of(IMPORTANCES)
    contract, age = drawn.placed
    assert contract.box[0] == age.box[0]
    assert contract.box[2] - contract.box[0] == pytest.approx(6 * (age.box[2] - age.box[0]), abs=6)
    notes = {w.text: w for w in drawn.words if w.size == drawing.NOTE and not w.anchor.endswith("a")}
    assert notes["1.50"].anchor == "lm" and notes["1.50"].at[0] > contract.box[2]


@pytest.mark.parametrize("low, high, percent, expected", [
    (0.0, 1.0, True, ["0%", "20%", "40%", "60%", "80%", "100%"]),
    (0.30, 0.42, True, ["30%", "32%", "34%", "36%", "38%", "40%", "42%"]),
    (0.001, 0.006, True, ["0.1%", "0.2%", "0.3%", "0.4%", "0.5%", "0.6%"]),
    (-1.3, 1.3, False, ["-1.0", "-0.5", "0.0", "0.5", "1.0"]),
    (40_000, 90_000, False, ["40,000", "50,000", "60,000", "70,000", "80,000", "90,000"]),
])
def test_ticks_are_round_values_inside_the_axis_written_with_as_few_decimals_as_tell_them_apart(low, high, percent,
                                                                                                expected):
    scale = drawing.Scale(low, high, 100, 600)
    ticks = drawing.ticks(scale, percent)
    assert [text for _, text in ticks] == expected
    assert all(low <= value <= high for value, _ in ticks)


def test_a_taller_picture_makes_a_taller_png_of_the_same_width():
    many = Picture("t", "axis", tuple(Bar(f"field {n}", 0.0, n + 1.0, str(n), "importance") for n in range(12)), (),
                   False, "alt", "z.png")
    short, tall = drawing.drawing_of(IMPORTANCES), drawing.drawing_of(many)
    assert tall.width == short.width == 640
    assert tall.height - short.height == 10 * drawing.ROW


def test_words_outside_the_font_still_draw():
    odd = Picture("東京: 🙂", "axis", (Bar("city = 東京", 0.0, 1.0, "+1.00"),), (Mark("b", "0", 0.0),
                                                                               Mark("e", "1", 1.0)), False, "alt",
                  "z.png")
    assert pixels(odd).size[0] == 640


def test_drawing_on_many_threads_at_once_gives_the_same_png_as_on_one():
    alone = drawing.png(drawing.drawing_of(WATERFALL))
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda _: drawing.png(drawing.drawing_of(WATERFALL)), range(16)))
    assert together == [alone] * 16
