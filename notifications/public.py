"""notifications: public."""
