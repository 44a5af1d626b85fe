"""depot: handlers."""
