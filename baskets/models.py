"""baskets: models."""
