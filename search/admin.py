"""search: admin."""
