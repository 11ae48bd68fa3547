"""The status line at the bottom of every screen."""
