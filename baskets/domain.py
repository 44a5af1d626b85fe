"""baskets: domain."""
