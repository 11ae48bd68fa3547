"""Widgets, one module each, named for the screen region they fill."""
