"""Figures that the hardening tests measure (bad inputs handled, sessions served, runs completed, crashes
survived, secrets found), printed in one block at the end of the pytest run by ``conftest.py``.

A test calls :func:`report` with a name and a value; a later report under the same name replaces the earlier one.
A value may also be a function of no arguments, called only when the block is printed: a figure that sums up
several tests then counts whatever ran, in whatever order, and a function that returns None prints nothing
(none of its tests ran).
"""

from __future__ import annotations

from typing import Any

FIGURES: dict[str, Any] = {}


def report(name: str, value: Any) -> None:
    FIGURES[name] = value


def lines() -> list[str]:
    values = {name: value() if callable(value) else value for name, value in FIGURES.items()}
    return [f"{name}: {value}" for name, value in values.items() if value is not None]
