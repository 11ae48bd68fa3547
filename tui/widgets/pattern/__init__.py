"""The pattern bar above the realm tree."""
