"""search: handlers."""
