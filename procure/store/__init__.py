"""procure/store."""
