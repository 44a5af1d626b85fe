"""baskets: admin."""
