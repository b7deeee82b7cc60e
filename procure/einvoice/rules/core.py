"""EN 16931 rules: core (see the package docstring)."""

from __future__ import annotations
