"""notifications: admin."""
