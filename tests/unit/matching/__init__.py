"""tests/unit/matching: the matching engine, no I/O."""
