"""What the wheel holds: the product's three packages, and none of the test doubles."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_the_product_and_no_test_doubles(tmp_path):
    source = tmp_path / "source"            # a copy of the repository, so building leaves no files in it
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "__pycache__", "var", "build", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("predbot-*.whl")
    names = [name for name in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in name]
    assert {name.split("/")[0] for name in names} == {"bot", "parser", "scoring"}
    assert "parser/grammar.lark" in names
    packaged = "\n".join(zipfile.ZipFile(wheel).read(name).decode() for name in names if name.endswith(".py"))
    doubles = "\n".join(path.read_text() for path in (ROOT / "tests" / "doubles").glob("*.py"))
    for double in ("class FakeSlack", "class Sink", "class LoopThread", "class ServiceThread"):
        assert double in doubles and double not in packaged
