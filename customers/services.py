"""customers: services."""
