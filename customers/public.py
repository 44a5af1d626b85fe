"""customers: public."""
