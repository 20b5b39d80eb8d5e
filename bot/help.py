"""`help` and `help TOPIC`, generated from the grammar's command docs and the registry."""

from __future__ import annotations

import parser as commands
from scoring.problems import did_you_mean
from scoring.registry import Registry

VALUES = """\
Values:
  numbers      45, -3, 4.5, 1e3, 60k, 1.2M, $80.00, 15%
  yes / no     true false yes no y n on off
  words        Premium, north-east        (quote text with spaces: "Premium Plus")
  missing      ?  na  null                (the model fills it in where it can)
Keys ignore case, spaces, _ and -: `plan type`, `plan_type` and `PlanType` are the same field."""


def help_text(topic: str | None, registry: Registry) -> str:
    if topic is None:
        return overview(registry)
    wanted = topic.strip().lower()
    docs = {doc.name: doc for doc in commands.COMMANDS}
    if wanted in docs:
        doc = docs[wanted]
        return f"{doc.syntax}\n  {doc.summary}\n  e.g. {doc.example}"
    if wanted in {"value", "values"}:
        return VALUES
    if wanted in {n.lower() for n in registry.names()}:
        return f"Type `schema {wanted}` for its fields, or `explain {wanted}` for what drives it."
    topics = [*docs, "values", *registry.names()]
    guess = did_you_mean(wanted, topics)
    suggestion = f"Did you mean `help {guess}`? " if guess else ""
    return f"There is no help on '{topic}'. {suggestion}Topics: {', '.join(topics)}."


def overview(registry: Registry) -> str:
    width = max(len(doc.syntax) for doc in commands.COMMANDS)
    lines = ["Ask me for predictions. Commands:"]
    lines += [f"  {doc.syntax.ljust(width)}  {doc.summary}" for doc in commands.COMMANDS]
    default = registry.default_name
    lines.append("")
    lines.append(f"Default model: {default}." if default else "Name a model: `predict NAME: ...`.")
    lines.append("Try: predict: age=45, income=60000" if default == "churn" else
                 "Type `models` to see them and `schema NAME` for a model's fields.")
    lines.append("`help values` explains how to write values; `help predict` shows one command.")
    return "\n".join(lines)
