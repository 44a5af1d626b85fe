"""ordering: services."""
