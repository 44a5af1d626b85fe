"""search: models."""
