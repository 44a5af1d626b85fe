"""stores: handlers."""
