"""depot: domain."""
