"""notifications: domain."""
