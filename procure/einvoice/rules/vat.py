"""EN 16931 rules: vat (see the package docstring)."""

from __future__ import annotations
