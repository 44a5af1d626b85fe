"""depot: services."""
