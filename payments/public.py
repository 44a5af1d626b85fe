"""payments: public."""
