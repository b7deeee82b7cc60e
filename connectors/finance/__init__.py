"""connectors/finance."""
