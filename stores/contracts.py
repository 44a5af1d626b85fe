"""stores: contracts."""
