"""customers: handlers."""
