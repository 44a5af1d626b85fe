"""depot: public."""
