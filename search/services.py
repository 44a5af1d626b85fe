"""search: services."""
