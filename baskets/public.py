"""baskets: public."""
