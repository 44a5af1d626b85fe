"""search: domain."""
