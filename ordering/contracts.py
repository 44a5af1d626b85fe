"""ordering: contracts."""
