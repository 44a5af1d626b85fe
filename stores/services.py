"""stores: services."""
