"""stores: models."""
