"""notifications: contracts."""
