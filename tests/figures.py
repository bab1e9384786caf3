"""Figures that the hardening tests measure (bad inputs handled, sessions served, runs completed, crashes
survived, secrets found), printed in one block at the end of the pytest run by ``conftest.py``.

A test calls :func:`report` with a name and a value; a later report under the same name replaces the earlier one.
"""

from __future__ import annotations

from typing import Any

FIGURES: dict[str, Any] = {}


def report(name: str, value: Any) -> None:
    FIGURES[name] = value


def lines() -> list[str]:
    return [f"{name}: {value}" for name, value in FIGURES.items()]
