"""Stand-ins for tools the tests cannot reach: the 1Password CLI (``op``) and SDK client."""
