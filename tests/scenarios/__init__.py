"""tests/scenarios."""
