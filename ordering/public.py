"""ordering: public."""
