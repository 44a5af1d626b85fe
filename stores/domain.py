"""stores: domain."""
