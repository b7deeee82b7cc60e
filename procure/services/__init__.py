"""procure/services."""
