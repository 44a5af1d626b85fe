"""ordering: models."""
