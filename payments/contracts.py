"""payments: contracts."""
