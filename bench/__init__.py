"""Benchmarks: each prints figures measured side by side with a baseline in the same run.

They drive the same test doubles as the tests (a fake Slack, a relay sink),
which live under tests/ so that they never ship in the wheel.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
