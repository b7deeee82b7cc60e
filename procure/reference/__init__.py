"""procure/reference."""
