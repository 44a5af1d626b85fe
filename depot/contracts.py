"""depot: contracts."""
