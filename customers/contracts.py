"""customers: contracts."""
