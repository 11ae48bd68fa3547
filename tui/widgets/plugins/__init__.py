"""The plugins panel's table and detail."""
