"""payments: domain."""
