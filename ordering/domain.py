"""ordering: domain."""
