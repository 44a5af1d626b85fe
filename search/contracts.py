"""search: contracts."""
