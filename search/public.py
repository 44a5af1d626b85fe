"""search: public."""
