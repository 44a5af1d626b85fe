"""customers: models."""
