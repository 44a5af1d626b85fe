"""stores: admin."""
