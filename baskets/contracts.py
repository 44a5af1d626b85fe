"""baskets: contracts."""
