"""customers: domain."""
