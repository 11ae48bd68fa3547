"""The realm tree on the left of the main screen."""
