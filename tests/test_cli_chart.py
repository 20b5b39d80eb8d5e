"""`predbot ask --chart FILE.png`, run as a real subprocess: the text answer as ever, and the chart beside it."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import matplotlib.image
import pytest


@pytest.fixture(scope="module")
def predbot(demo_dir, tmp_path_factory):
    env = {**os.environ, "PREDBOT_CACHE": str(demo_dir.parent), "PREDBOT_DATA": str(tmp_path_factory.mktemp("data"))}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, timeout=120,
                              check=False)

    return run


def test_ask_with_chart_prints_the_answer_and_writes_its_png(predbot, tmp_path):
    out = tmp_path / "drivers.png"
    result = predbot("ask", "--chart", str(out), "predict: age=45, income=60000")
    assert result.returncode == 0, result.stderr
    assert b"-> stays (68% confident)" in result.stdout and result.stderr == b""
    pixels = matplotlib.image.imread(io.BytesIO(out.read_bytes()), format="png")
    assert pixels.shape[1] == 640 and pixels.min() < pixels.max()


def test_an_answer_without_a_chart_says_why_on_one_line_and_keeps_its_text_and_status(predbot, tmp_path):
    out = tmp_path / "none.png"
    result = predbot("ask", "--chart", str(out), "models")
    assert result.returncode == 0 and b"churn" in result.stdout
    assert result.stderr.decode().splitlines() == [
        "predbot: no chart written: charts are drawn of a one-row prediction with drivers, a whatif or an explain"]
    assert not out.exists()


def test_a_refusal_writes_no_chart_and_exits_1(predbot, tmp_path):
    out = tmp_path / "refused.png"
    result = predbot("ask", "--chart", str(out), "predict nosuch: a=1")
    assert result.returncode == 1 and b"nosuch" in result.stdout
    assert result.stderr.decode().splitlines() == ["predbot: no chart written: the question was not answered"]
    assert not out.exists()


def test_a_chart_that_cannot_be_written_says_so_and_keeps_the_answer(predbot, tmp_path):
    out = tmp_path / "no-such-dir" / "drivers.png"
    result = predbot("ask", "--chart", str(out), "explain iris")
    assert result.returncode == 0 and b"petal_width" in result.stdout
    assert result.stderr.decode().splitlines() == [f"predbot: {out} could not be written: No such file or directory"]
