"""baskets: handlers."""
