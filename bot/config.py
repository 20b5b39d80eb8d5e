"""Where settings come from: command-line flags first, then the environment."""

from __future__ import annotations

import os
from pathlib import Path


def models_dir(flag: str | None) -> Path:
    """--models DIR, else $PREDBOT_MODELS, else the built-in demo models (built on first use)."""
    chosen = flag or os.environ.get("PREDBOT_MODELS")
    if chosen:
        return Path(chosen)
    from scoring.demo import demo_models_dir

    return demo_models_dir()
