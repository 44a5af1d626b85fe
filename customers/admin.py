"""customers: admin."""
