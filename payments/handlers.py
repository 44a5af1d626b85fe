"""payments: handlers."""
