"""procure."""
