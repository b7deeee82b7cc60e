"""procure/domain."""
