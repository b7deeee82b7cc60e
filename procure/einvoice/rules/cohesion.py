"""EN 16931 rules: cohesion (see the package docstring)."""

from __future__ import annotations
