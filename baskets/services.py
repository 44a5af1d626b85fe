"""baskets: services."""
