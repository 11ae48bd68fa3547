"""The detail pane on the right of the main screen."""
