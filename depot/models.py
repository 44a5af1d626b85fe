"""depot: models."""
