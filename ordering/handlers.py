"""ordering: handlers."""
