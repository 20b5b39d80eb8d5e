"""The targets the issues set (12: the HTTP API; 13: speed), and what this run measured for each: every benchmark
reports its figures here as it prints them, and `make bench` ends with the table (bench/__main__.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    today: str
    target: str
    met: bool


FIGURES: list[Figure] = []


def report(name: str, today: str, target: str, met: bool) -> None:
    FIGURES.append(Figure(name, today, target, met))


def table() -> str:
    """The figures reported so far, as a Markdown table (the README shows the latest run)."""
    lines = ["| figure | this run | target | |", "| --- | --- | --- | --- |"]
    lines += [f"| {f.name} | {f.today} | {f.target} | {'met' if f.met else 'MISSED'} |" for f in FIGURES]
    return "\n".join(lines)
