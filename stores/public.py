"""stores: public."""
