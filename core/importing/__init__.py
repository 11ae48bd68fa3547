"""``import``: plain values of a ``.env`` or Compose file stored as secrets, and the file
rewritten to ``se://`` references, keeping everything it did not change."""
