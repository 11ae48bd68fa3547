"""Widgets, in folders by the screen region they fill (as Posting arranges its own)."""
