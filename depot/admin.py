"""depot: admin."""
