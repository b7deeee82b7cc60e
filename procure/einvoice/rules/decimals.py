"""EN 16931 rules: decimals (see the package docstring)."""

from __future__ import annotations
