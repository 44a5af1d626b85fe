"""ordering: admin."""
