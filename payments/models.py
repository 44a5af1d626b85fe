"""payments: models."""
