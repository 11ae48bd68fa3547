"""Parts of the secret editor."""
